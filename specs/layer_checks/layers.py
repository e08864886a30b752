"""Layers as cs231n's assignments have students write them, for ``gradcheck layer``: correct ones,
and wrong versions (the ``_wrong``-named functions below each correct one) that the specs in this
folder use to show each diagnosis.

    gradcheck layer specs/layer_checks/ --code specs/layer_checks/layers.py

forward(*inputs[, config]) -> (out, cache); backward(dout, cache) -> the inputs' gradients in order.
"""

import numpy as np

# --------------------------------------------------------------------------- affine


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def affine_backward_wrong_mean_bias(dout, cache):
    dx, dw, _ = affine_backward(dout, cache)
    return dx, dw, dout.mean(axis=0)  # wrong: the bias gets the sum over the samples, not the mean


def affine_backward_wrong_transposed_dw(dout, cache):
    dx, dw, db = affine_backward(dout, cache)
    return dx, dw.T, db  # wrong: dout.T @ x, the product the other way round


def affine_forward_wrong_sign(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w - b  # wrong: + b
    return out, (x, w)


def affine_backward_wrong_sign(dout, cache):
    dx, dw, db = affine_backward(dout, cache)
    return dx, dw, -db  # consistent with the wrong forward above


# --------------------------------------------------------------------------- relu


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, x):
    return dout * (x > 0)


def relu_backward_wrong_no_derivative(dout, x):
    return dout  # wrong: relu's own derivative (x > 0) is left out


def relu_forward_wrong_in_place(x):
    x[x < 0] = 0  # wrong: writes into the caller's array
    return x, x


# --------------------------------------------------------------------------- convolution


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            window = xp[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache, flip=False):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    kernel = w[:, :, ::-1, ::-1] if flip else w
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
            dw += np.tensordot(dout[:, :, i, j], xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(dout[:, :, i, j], kernel, axes=([1], [0]))
    dx = dxp[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def conv_backward_wrong_flipped_kernel(dout, cache):
    return conv_backward_naive(dout, cache, flip=True)  # wrong: the kernel turned by 180 degrees


def conv_backward_wrong_bias_per_position(dout, cache):
    dx, dw, _ = conv_backward_naive(dout, cache)
    return dx, dw, dout.sum(axis=0)  # wrong: summed over the samples only, not over the positions


def conv_backward_wrong_cache(dout, cache):
    x, w, b, conv_param, padded = cache  # wrong: the forward's cache holds four things
    return conv_backward_naive(dout, (x, w, b, conv_param))


# --------------------------------------------------------------------------- max pooling


def max_pool_forward_naive(x, pool_param):
    size, stride = pool_param["pool_height"], pool_param["stride"]
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - size) // stride, 1 + (W - size) // stride
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * stride : i * stride + size, j * stride : j * stride + size].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache, average=False):
    x, pool_param = cache
    size, stride = pool_param["pool_height"], pool_param["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + size), slice(j * stride, j * stride + size)
            window = x[:, :, rows, cols]
            if average:
                share = np.full(window.shape, 1.0 / (size * size))
            else:
                share = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, rows, cols] += share * dout[:, :, i, j][:, :, None, None]
    return dx


def max_pool_backward_wrong_averaged(dout, cache):
    return max_pool_backward_naive(dout, cache, average=True)  # wrong: spread evenly, as average pooling


# --------------------------------------------------------------------------- batch normalisation


def batchnorm_forward(x, gamma, beta, bn_param):
    mu, var = x.mean(axis=0), x.var(axis=0)
    istd = 1.0 / np.sqrt(var + bn_param.get("eps", 1e-5))
    xhat = (x - mu) * istd
    return gamma * xhat + beta, (xhat, gamma, istd)


def batchnorm_backward(dout, cache):
    xhat, gamma, istd = cache
    N = dout.shape[0]
    dxhat = dout * gamma
    dx = istd / N * (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def batchnorm_backward_wrong_no_statistics(dout, cache):
    xhat, gamma, istd = cache
    _, dgamma, dbeta = batchnorm_backward(dout, cache)
    return dout * gamma * istd, dgamma, dbeta  # wrong: as if the mean and variance were constants


# --------------------------------------------------------------------------- softmax loss


def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = x.shape[0]
    dx = np.exp(log_p)
    dx[np.arange(N), y] -= 1
    return -log_p[np.arange(N), y].mean(), dx / N


def softmax_loss_wrong_sign(x, y):
    loss, dx = softmax_loss(x, y)
    return loss, -dx  # wrong: y - p where p - y belongs


def softmax_loss_wrong_not_averaged(x, y):
    loss, dx = softmax_loss(x, y)
    return loss, dx * x.shape[0]  # wrong: the loss is the mean, so its gradient keeps the 1/N


# --------------------------------------------------------------------------- word embedding


def word_embedding_forward(x, W):
    return W[x], (x, W.shape)


def word_embedding_backward(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    np.add.at(dW, x, dout)
    return dW


def word_embedding_backward_wrong_overwritten(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    dW[x] += dout  # wrong: numpy writes a repeated word once
    return dW


# --------------------------------------------------------------------------- LSTM step (two outputs)


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o, g = _sigmoid(a[:, :H]), _sigmoid(a[:, H : 2 * H]), _sigmoid(a[:, 2 * H : 3 * H]), np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
    da = np.concatenate([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tanh_c * o * (1 - o),
                         dc * i * (1 - g**2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


# --------------------------------------------------------------------------- dropout (its mask from the config's seed)


def dropout_forward(x, dropout_param):
    p, seed = dropout_param["p"], dropout_param["seed"]
    mask = (np.random.RandomState(seed).rand(*x.shape) < p) / p
    return x * mask, mask


def dropout_backward(dout, mask):
    return dout * mask


def dropout_backward_wrong_unscaled(dout, mask):
    return dout * (mask > 0)  # wrong: the forward scaled the kept units by 1/p


# --------------------------------------------------------------------------- layer normalisation


def layernorm_forward(x, gamma, beta, ln_param):
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    istd = 1.0 / np.sqrt(var + ln_param.get("eps", 1e-5))
    xhat = (x - mu) * istd
    return gamma * xhat + beta, (xhat, gamma, istd)


def layernorm_backward(dout, cache):
    xhat, gamma, istd = cache
    D = dout.shape[1]
    dxhat = dout * gamma
    dx = istd / D * (D * dxhat - dxhat.sum(axis=1, keepdims=True) - xhat * (dxhat * xhat).sum(axis=1, keepdims=True))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def layernorm_backward_wrong_no_statistics(dout, cache):
    xhat, gamma, istd = cache
    _, dgamma, dbeta = layernorm_backward(dout, cache)
    return dout * gamma * istd, dgamma, dbeta  # wrong: as if each sample's mean and variance were constants


# --------------------------------------------------------------------------- flatten


def flatten_forward(x):
    return x.reshape(x.shape[0], -1), x.shape


def flatten_backward(dout, shape):
    return dout.reshape(shape)


def flatten_backward_wrong_order(dout, shape):
    return dout.reshape(shape, order="F")  # wrong: the forward flattened in C order


# --------------------------------------------------------------------------- Ng's convolution and pooling (NHWC)


def conv_forward_nhwc(A_prev, W, b, hparameters):
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    n_H, n_W = (n_H_prev - f + 2 * pad) // stride + 1, (n_W_prev - f + 2 * pad) // stride + 1
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    Z = np.zeros((m, n_H, n_W, n_C))
    for h in range(n_H):
        for w in range(n_W):
            window = A_pad[:, h * stride : h * stride + f, w * stride : w * stride + f, :]
            Z[:, h, w, :] = np.tensordot(window, W, axes=([1, 2, 3], [0, 1, 2])) + b.reshape(n_C)
    return Z, (A_prev, W, b, hparameters)


def conv_backward_nhwc(dZ, cache):
    A_prev, W, b, hparameters = cache
    stride, pad = hparameters["stride"], hparameters["pad"]
    f = W.shape[0]
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dA_pad, dW = np.zeros_like(A_pad), np.zeros_like(W)
    for h in range(dZ.shape[1]):
        for w in range(dZ.shape[2]):
            rows, cols = slice(h * stride, h * stride + f), slice(w * stride, w * stride + f)
            dA_pad[:, rows, cols, :] += np.tensordot(dZ[:, h, w, :], W, axes=([1], [3]))
            dW += np.tensordot(A_pad[:, rows, cols, :], dZ[:, h, w, :], axes=([0], [0]))
    dA_prev = dA_pad[:, pad : pad + A_prev.shape[1], pad : pad + A_prev.shape[2], :]
    return dA_prev, dW, dZ.sum(axis=(0, 1, 2)).reshape(b.shape)


def pool_forward_nhwc(A_prev, hparameters):
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    n_H, n_W = (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1
    A = np.zeros((m, n_H, n_W, n_C))
    for h in range(n_H):
        for w in range(n_W):
            A[:, h, w, :] = A_prev[:, h * stride : h * stride + f, w * stride : w * stride + f, :].mean(axis=(1, 2))
    return A, (A_prev, hparameters)


def pool_backward_nhwc(dA, cache, share=True):
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    dA_prev = np.zeros_like(A_prev)
    for h in range(dA.shape[1]):
        for w in range(dA.shape[2]):
            spread = dA[:, h, w, None, None, :] / (f * f if share else 1)
            dA_prev[:, h * stride : h * stride + f, w * stride : w * stride + f, :] += spread
    return dA_prev


def pool_backward_nhwc_wrong_not_shared(dA, cache):
    return pool_backward_nhwc(dA, cache, share=False)  # wrong: every entry gets the window's whole gradient


# --------------------------------------------------------------------------- torch's and CMU's linear: W is out x in


def linear_forward_out_in(A, W, b):
    return A @ W.T + b, (A, W)


def linear_backward_out_in(dZ, cache):
    A, W = cache
    return dZ @ W, dZ.T @ A, dZ.sum(axis=0)


# --------------------------------------------------------------------------- recurrences over a sequence (cs231n)


def rnn_forward(x, h0, Wx, Wh, b):
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        hs.append(h)
    h = np.stack(hs, axis=1)
    return h, (x, h0, Wx, Wh, h)


def rnn_backward(dh, cache, carry=True):
    x, h0, Wx, Wh, h = cache
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dprev = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        ds = (dh[:, t] + (dprev if carry else 0)) * (1 - h[:, t] ** 2)
        h_prev = h[:, t - 1] if t > 0 else h0
        dx[:, t], dWx, dWh, db = ds @ Wx.T, dWx + x[:, t].T @ ds, dWh + h_prev.T @ ds, db + ds.sum(axis=0)
        dprev = ds @ Wh.T
    return dx, dprev, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b, order="ifog"):
    """Gates stacked in ``order``: cs231n's i, f, o, g by default; torch's i, f, g, o with order='ifgo'."""
    H = h0.shape[1]
    h, c, steps = h0, np.zeros_like(h0), []
    for t in range(x.shape[1]):
        a = x[:, t] @ Wx + h @ Wh + b
        blocks = dict(zip(order, np.split(a, 4, axis=1), strict=True))
        i, f, o, g = _sigmoid(blocks["i"]), _sigmoid(blocks["f"]), _sigmoid(blocks["o"]), np.tanh(blocks["g"])
        c_prev, h_prev = c, h
        c = f * c + i * g
        h = o * np.tanh(c)
        steps.append((i, f, o, g, c, c_prev, h_prev))
    return np.stack([s[-1] for s in steps[1:]] + [h], axis=1), (x, Wx, Wh, steps, order, H)


def lstm_backward(dh, cache):
    x, Wx, Wh, steps, order, H = cache
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H)
    dnext_h, dnext_c = np.zeros((x.shape[0], H)), np.zeros((x.shape[0], H))
    for t in reversed(range(x.shape[1])):
        i, f, o, g, c, c_prev, h_prev = steps[t]
        dh_t = dh[:, t] + dnext_h
        dc = dnext_c + dh_t * o * (1 - np.tanh(c) ** 2)
        grads = {"i": dc * g * i * (1 - i), "f": dc * c_prev * f * (1 - f), "o": dh_t * np.tanh(c) * o * (1 - o),
                 "g": dc * i * (1 - g**2)}
        da = np.concatenate([grads[k] for k in order], axis=1)
        dx[:, t], dWx, dWh, db = da @ Wx.T, dWx + x[:, t].T @ da, dWh + h_prev.T @ da, db + da.sum(axis=0)
        dnext_h, dnext_c = da @ Wh.T, dc * f
    return dx, dnext_h, dWx, dWh, db


def rnn_backward_wrong_no_recurrent_path(dh, cache):
    return rnn_backward(dh, cache, carry=False)  # wrong: dh_t from step t's own output only


def lstm_backward_wrong_forget_on_c_t(dh, cache):
    x, Wx, Wh, steps, order, H = cache
    steps = [(i, f, o, g, c, c, h_prev) for i, f, o, g, c, c_prev, h_prev in steps]  # wrong: c_t where c_(t-1) is
    return lstm_backward(dh, (x, Wx, Wh, steps, order, H))


def lstm_forward_torch_order(x, h0, Wx, Wh, b):
    return lstm_forward(x, h0, Wx, Wh, b, order="ifgo")


def gru_forward(x, h0, Wx, Wh, bx, bh):
    """torch.nn.GRU's form, gates r, z, n: n = tanh(x Wx_n + bx_n + r (h Wh_n + bh_n))."""
    H = h0.shape[1]
    h, steps = h0, []
    for t in range(x.shape[1]):
        xv, hv = x[:, t] @ Wx + bx, h @ Wh + bh
        r, z = _sigmoid(xv[:, :H] + hv[:, :H]), _sigmoid(xv[:, H : 2 * H] + hv[:, H : 2 * H])
        n = np.tanh(xv[:, 2 * H :] + r * hv[:, 2 * H :])
        steps.append((r, z, n, hv[:, 2 * H :], h))
        h = (1 - z) * n + z * h
    hs = np.stack([s[-1] for s in steps[1:]] + [h], axis=1)
    return hs, (x, Wx, Wh, steps, H)


def gru_backward(dh, cache, carry=True):
    x, Wx, Wh, steps, H = cache
    dx, dWx, dWh = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh)
    dbx, dbh, dnext = np.zeros(3 * H), np.zeros(3 * H), np.zeros((x.shape[0], H))
    for t in reversed(range(x.shape[1])):
        r, z, n, hv_n, h_prev = steps[t]
        dh_t = dh[:, t] + (dnext if carry else 0)
        dn = dh_t * (1 - z) * (1 - n**2)
        dr = dn * hv_n * r * (1 - r)
        dz = dh_t * (h_prev - n) * z * (1 - z)
        dxv, dhv = np.concatenate([dr, dz, dn], axis=1), np.concatenate([dr, dz, dn * r], axis=1)
        dx[:, t], dWx, dWh = dxv @ Wx.T, dWx + x[:, t].T @ dxv, dWh + h_prev.T @ dhv
        dbx, dbh = dbx + dxv.sum(axis=0), dbh + dhv.sum(axis=0)
        dnext = dh_t * z + dhv @ Wh.T
    return dx, dnext, dWx, dWh, dbx, dbh


# --------------------------------------------------------------------------- Ng's LSTM: separate gate weights, columns


def _softmax_columns(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def lstm_cell_forward_ng(xt, a_prev, c_prev, parameters):
    p = parameters
    concat = np.concatenate([a_prev, xt], axis=0)  # [a_prev; x_t]
    ft, it = _sigmoid(p["Wf"] @ concat + p["bf"]), _sigmoid(p["Wi"] @ concat + p["bi"])
    cct, ot = np.tanh(p["Wc"] @ concat + p["bc"]), _sigmoid(p["Wo"] @ concat + p["bo"])
    c_next = ft * c_prev + it * cct
    a_next = ot * np.tanh(c_next)
    yt = _softmax_columns(p["Wy"] @ a_next + p["by"])
    return a_next, c_next, yt, (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p)


def lstm_forward_ng(x, a0, parameters):
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wy"].shape
    a, c, y = np.zeros((n_a, m, T_x)), np.zeros((n_a, m, T_x)), np.zeros((n_y, m, T_x))
    a_next, c_next, caches = a0, np.zeros_like(a0), []
    for t in range(T_x):
        a_next, c_next, yt, cache = lstm_cell_forward_ng(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t], c[:, :, t], y[:, :, t] = a_next, c_next, yt
        caches.append(cache)
    return a, y, c, (caches, x)


def lstm_cell_backward_ng(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache
    n_a = a_next.shape[0]
    dc = dc_next + da_next * ot * (1 - np.tanh(c_next) ** 2)
    gates = {"o": da_next * np.tanh(c_next) * ot * (1 - ot), "c": dc * it * (1 - cct**2),
             "i": dc * cct * it * (1 - it), "f": dc * c_prev * ft * (1 - ft)}
    concat = np.concatenate([a_prev, xt], axis=0)
    grads = {f"dW{g}": d @ concat.T for g, d in gates.items()}
    grads.update({f"db{g}": d.sum(axis=1, keepdims=True) for g, d in gates.items()})
    dconcat = sum(p[f"W{g}"].T @ d for g, d in gates.items())
    grads.update({"da_prev": dconcat[:n_a], "dxt": dconcat[n_a:], "dc_prev": dc * ft})
    return grads


def lstm_backward_ng(da, caches):
    caches, x = caches
    dx = np.zeros_like(x)
    da_prev, dc_prev = np.zeros_like(da[:, :, 0]), np.zeros_like(da[:, :, 0])
    totals = {}
    for t in reversed(range(x.shape[2])):
        step = lstm_cell_backward_ng(da[:, :, t] + da_prev, dc_prev, caches[t])
        dx[:, :, t], da_prev, dc_prev = step["dxt"], step["da_prev"], step["dc_prev"]
        for key in ("dWf", "dWi", "dWc", "dWo", "dbf", "dbi", "dbc", "dbo"):
            totals[key] = totals.get(key, 0) + step[key]
    return {"dx": dx, "da0": da_prev, **totals}


def lstm_backward_ng_wrong_forget_on_c_t(da, caches):
    caches, x = caches
    caches = [cache[:3] + (cache[1],) + cache[4:] for cache in caches]  # wrong: c_t where c_(t-1) belongs
    return lstm_backward_ng(da, (caches, x))


def gru_backward_wrong_no_recurrent_path(dh, cache):
    return gru_backward(dh, cache, carry=False)  # wrong: dh_t from step t's own output only


# --------------------------------------------------------------------------- multiclass SVM loss (hinge: kinks)


def svm_loss(x, y):
    N = x.shape[0]
    rows = np.arange(N)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1.0)
    margins[rows, y] = 0
    dx = (margins > 0).astype(float)
    dx[rows, y] -= dx.sum(axis=1)
    return margins.sum() / N, dx / N
