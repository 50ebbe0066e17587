# expect forward: pass
# expect dZ: fail autodiff_used
# expect dW: fail autodiff_used
# expect db: fail autodiff_used
# bug: dZ gets its gradient from torch.autograd (which the jail cannot import anyway); forward is still graded.
import numpy as np
import torch

torch.manual_seed(0)


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    Z = torch.log(torch.tensor(P, requires_grad=True))
    loss = torch.nn.functional.cross_entropy(Z, torch.tensor(y))
    (G,) = torch.autograd.grad(loss, Z)
    return G.numpy()


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)
