"""BPTT for specs/layers/lstm.yaml (many-to-one: only h_T reaches the dense layer), written as in
cs231n's lstm_backward, gates stacked i, f, o, g: a correct answer.

    gradcheck check specs/layers/lstm.yaml --backward specs/homework/bptt/lstm_correct.py
"""

import numpy as np


def backward(q):
    # the dense layer on h_T, half squared error summed over the samples
    dz2 = q["a2"] - q["y"]
    h, c = q["h1"], q["c1"]
    dW2 = h[:, -1].T @ dz2
    db2 = dz2.sum(axis=0, keepdims=True)

    i, f, o, g = q["i1"], q["f1"], q["o1"], q["g1"]
    x, Wh = q["x"], q["Wh1"]
    N, T, H = h.shape
    dh_out = np.zeros_like(h)
    dh_out[:, -1] = dz2 @ q["W2"].T  # only the last step has an output
    dh, dc = np.zeros_like(h), np.zeros_like(c)
    dWx, dWh, db = np.zeros_like(q["Wx1"]), np.zeros_like(Wh), np.zeros_like(q["b1"])
    dnext_h, dnext_c = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        dh[:, t] = dh_out[:, t] + dnext_h
        tanh_c = np.tanh(c[:, t])
        dc[:, t] = dnext_c + dh[:, t] * o[:, t] * (1 - tanh_c ** 2)
        c_prev = c[:, t - 1] if t > 0 else np.zeros((N, H))
        h_prev = h[:, t - 1] if t > 0 else np.zeros((N, H))
        di = dc[:, t] * g[:, t] * i[:, t] * (1 - i[:, t])
        df = dc[:, t] * c_prev * f[:, t] * (1 - f[:, t])
        do = dh[:, t] * tanh_c * o[:, t] * (1 - o[:, t])
        dg = dc[:, t] * i[:, t] * (1 - g[:, t] ** 2)
        dv = np.concatenate([di, df, do, dg], axis=1)
        dWx += x[:, t].T @ dv
        dWh += h_prev.T @ dv
        db += dv.sum(axis=0)
        dnext_h, dnext_c = dv @ Wh.T, dc[:, t] * f[:, t]
    return {"dz2": dz2, "dW2": dW2, "db2": db2, "dh1": dh, "dc1": dc, "dWx1": dWx, "dWh1": dWh, "db1": db}
