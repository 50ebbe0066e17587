# expect forward: pass
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: none: the notebook exported as a script (File > Download as > Python): its magics became get_ipython() calls.
#!/usr/bin/env python
# coding: utf-8

# In[1]:


import numpy as np
get_ipython().run_line_magic('matplotlib', 'inline')
get_ipython().system('pip install -q tqdm')


# In[2]:


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


# In[ ]:


def dZ(P, y):
    m = P.shape[0]
    G = P.copy()
    G[np.arange(m), y] -= 1.0
    return G / m


# In[ ]:


def dW(X, dZ):
    return X.T @ dZ


# In[ ]:


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)


# In[3]:


P = forward(np.eye(3), np.ones((3, 2)), np.zeros((1, 2)))
display(P)
get_ipython().run_cell_magic('time', '', 'forward(np.eye(3), np.ones((3, 2)), np.zeros((1, 2)))\n')
