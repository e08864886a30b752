"""BPTT for specs/layers/embedding.yaml (word embeddings -> RNN -> a per-step classifier over the
vocabulary), the shape of cs231n's captioning RNN: a correct answer.

    gradcheck check specs/layers/embedding.yaml --backward specs/homework/bptt/embedding_correct.py
"""

import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def backward(q):
    x = q["x"]  # N x T word indices, integers
    dz3 = (softmax(q["z3"]) - q["y"]) / q["m"]
    dW3 = np.einsum("nth,ntk->hk", q["h2"], dz3)
    db3 = dz3.sum(axis=(0, 1))
    dh_out = dz3 @ q["W3"].T

    h, words, Wh = q["h2"], q["z1"], q["Wh2"]
    N, T, H = h.shape
    dh, dwords = np.zeros_like(h), np.zeros_like(words)
    dWx, dWh, db = np.zeros_like(q["Wx2"]), np.zeros_like(Wh), np.zeros_like(q["b2"])
    dnext = np.zeros((N, H))
    for t in reversed(range(T)):
        dh[:, t] = dh_out[:, t] + dnext
        ds = dh[:, t] * (1 - h[:, t] ** 2)
        h_prev = h[:, t - 1] if t > 0 else np.zeros((N, H))
        dWx += words[:, t].T @ ds
        dWh += h_prev.T @ ds
        db += ds.sum(axis=0)
        dwords[:, t] = ds @ q["Wx2"].T
        dnext = ds @ Wh.T

    dW1 = np.zeros_like(q["W1"])
    np.add.at(dW1, x, dwords)  # a word that occurs several times adds up its gradients
    return {"dz3": dz3, "dW3": dW3, "db3": db3, "dh2": dh, "dWx2": dWx, "dWh2": dWh, "db2": db, "dz1": dwords,
            "dW1": dW1}
