"""BPTT for specs/layers/gru.yaml, torch.nn.GRU's form (gates r, z, n; the update gate z is u1 in q,
since z<l> names every layer's output before its activation): a correct answer.

    gradcheck check specs/layers/gru.yaml --backward specs/homework/bptt/gru_correct.py
"""

import numpy as np


def backward(q):
    h, x, Wh, bh = q["h1"], q["x"], q["Wh1"], q["bh1"]
    r, u, n = q["r1"], q["u1"], q["n1"]
    N, T, H = h.shape
    dh_out = (h - q["y"]) / q["m"]  # half squared error on every step, mean over the samples
    dh = np.zeros_like(h)
    dWx, dWh = np.zeros_like(q["Wx1"]), np.zeros_like(Wh)
    dbx, dbh = np.zeros_like(q["bx1"]), np.zeros_like(bh)
    dnext = np.zeros((N, H))
    for t in reversed(range(T)):
        dh[:, t] = dh_out[:, t] + dnext
        h_prev = h[:, t - 1] if t > 0 else np.zeros((N, H))
        hv_n = h_prev @ Wh[:, 2 * H:] + bh[2 * H:]
        dn = dh[:, t] * (1 - u[:, t]) * (1 - n[:, t] ** 2)
        dr = dn * hv_n * r[:, t] * (1 - r[:, t])
        du = dh[:, t] * (h_prev - n[:, t]) * u[:, t] * (1 - u[:, t])
        dxv = np.concatenate([dr, du, dn], axis=1)
        dhv = np.concatenate([dr, du, dn * r[:, t]], axis=1)
        dWx += x[:, t].T @ dxv
        dWh += h_prev.T @ dhv
        dbx += dxv.sum(axis=0)
        dbh += dhv.sum(axis=0)
        dnext = dh[:, t] * u[:, t] + dhv @ Wh.T
    return {"dh1": dh, "dWx1": dWx, "dWh1": dWh, "dbx1": dbx, "dbh1": dbh}
