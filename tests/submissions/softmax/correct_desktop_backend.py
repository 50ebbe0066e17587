# expect forward: pass
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: none: written on a laptop: matplotlib.use("TkAgg") for a window, the loss plotted and shown at the top level.
import matplotlib
import numpy as np

matplotlib.use("TkAgg")
import matplotlib.pyplot as plt  # noqa: E402


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m = P.shape[0]
    G = P.copy()
    G[np.arange(m), y] -= 1.0
    return G / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)


rng = np.random.default_rng(0)
X, y = rng.standard_normal((20, 2)), rng.integers(0, 3, 20)
W, b, losses = np.zeros((2, 3)), np.zeros((1, 3)), []
for step in range(50):
    P = forward(X, W, b)
    losses.append(-np.log(P[np.arange(20), y]).mean())
    G = dZ(P, y)
    W, b = W - 0.5 * dW(X, G), b - 0.5 * db(G)
plt.plot(losses)
plt.title("training loss")
plt.show()
