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
