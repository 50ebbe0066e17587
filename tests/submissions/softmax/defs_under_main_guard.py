# expect forward: fail missing_function
# expect dZ: fail missing_function
# expect dW: fail missing_function
# expect db: fail missing_function
# bug: every function is defined inside `if __name__ == "__main__":`, which `python softmax.py` runs but the grader never does.
import numpy as np

if __name__ == "__main__":

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
    print(forward(rng.standard_normal((4, 2)), rng.standard_normal((2, 3)), np.zeros((1, 3))))
