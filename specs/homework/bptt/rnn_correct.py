"""BPTT for specs/layers/rnn.yaml, written as in cs231n's rnn_backward: a correct answer.

    gradcheck check specs/layers/rnn.yaml --backward specs/homework/bptt/rnn_correct.py
"""

import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def backward(q):
    # the per-step classifier: z2 = h W2 + b2, softmax cross-entropy summed over steps, mean over samples
    dz2 = (softmax(q["z2"]) - q["y"]) / q["m"]
    dW2 = np.einsum("nth,ntk->hk", q["h1"], dz2)
    db2 = dz2.sum(axis=(0, 1))
    dh_out = dz2 @ q["W2"].T  # dE/dh_t through step t's own output

    x, h, h0, Wh = q["x"], q["h1"], q["h0_1"], q["Wh1"]
    N, T, H = h.shape
    dh = np.zeros_like(h)
    dWx, dWh, db = np.zeros_like(q["Wx1"]), np.zeros_like(Wh), np.zeros_like(q["b1"])
    dnext = np.zeros((N, H))  # what flows back into h_t from step t + 1
    for t in reversed(range(T)):
        dh[:, t] = dh_out[:, t] + dnext
        ds = dh[:, t] * (1 - h[:, t] ** 2)  # tanh'(s_t) = 1 - h_t^2
        h_prev = h[:, t - 1] if t > 0 else h0
        dWx += x[:, t].T @ ds
        dWh += h_prev.T @ ds
        db += ds.sum(axis=0)
        dnext = ds @ Wh.T
    return {"dz2": dz2, "dW2": dW2, "db2": db2, "dh1": dh, "dWx1": dWx, "dWh1": dWh, "db1": db, "dh0_1": dnext}
