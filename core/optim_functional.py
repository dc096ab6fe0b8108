"""A `torch.optim` optimizer's later steps, taken by the functional implementation its `step()` calls.

`functional_steps(opt)` gives, per parameter group, a function (gradient, η) that calls `torch.optim.sgd.sgd`,
`adagrad.adagrad`, `rmsprop.rmsprop` or `adam.adam` with exactly the arguments and state tensors `opt.step()`
passes them, so a race of hundreds of steps on a two-number parameter skips `step()`'s per-call machinery.
core.optimizers uses it after each optimizer's first real `step()`; tests/core/test_optimizers.py checks the paths
are bit-identical to the class API's.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch.optim import adagrad as adagrad_impl
from torch.optim import adam as adam_impl
from torch.optim import rmsprop as rmsprop_impl
from torch.optim import sgd as sgd_impl

__all__ = ["functional_steps"]


def functional_steps(opt: torch.optim.Optimizer) -> list[Callable[[torch.Tensor, float], None]]:
    """Per parameter group (of one parameter), a function (gradient, η) that takes the group's next step exactly as
    `opt.step()` takes it: the same functional implementation (`torch.optim.sgd.sgd`, `adagrad.adagrad`,
    `rmsprop.rmsprop`, `adam.adam`) with the arguments `step()` passes it, from the group's settings and the
    optimizer's own state tensors, which it updates in place. What is left out is `step()`'s per-call machinery
    (profiler record, hooks, grad mode, collecting the state lists again): half of Adam's step on a two-number
    parameter, three quarters of plain SGD's. Call it after one real `opt.step()`, which creates the state.

    tests/core/test_optimizers.py checks that every optimizer and schedule the page offers gives bit-identical paths
    to the plain `torch.optim` class API.
    """
    optim = torch.optim
    common = {"grad_scale": getattr(opt, "grad_scale", None), "found_inf": getattr(opt, "found_inf", None)}
    steps = []
    for group in opt.param_groups:
        (p,) = group["params"]
        state = opt.state[p]
        complex_ = torch.is_complex(p)
        if type(opt) is optim.SGD:
            buffers = [state["momentum_buffer"]] if group["momentum"] != 0 else []
            kw = {"weight_decay": group["weight_decay"], "momentum": group["momentum"], "dampening": group["dampening"],
                  "nesterov": group["nesterov"], "maximize": group["maximize"], "has_sparse_grad": False,  # dense gradients
                  "foreach": group["foreach"], "fused": group["fused"], **common}
            steps.append(functools.partial(_sgd_step, p, buffers, kw))
        elif type(opt) is optim.Adagrad:
            kw = {"weight_decay": group["weight_decay"], "lr_decay": group["lr_decay"], "eps": group["eps"],
                  "has_sparse_grad": False, "foreach": group["foreach"], "maximize": group["maximize"],
                  "differentiable": group["differentiable"], "has_complex": complex_, "fused": group["fused"], **common}
            steps.append(functools.partial(_adagrad_step, p, [state["sum"]], [state["step"]], kw))
        elif type(opt) is optim.RMSprop:
            kw = {"alpha": group["alpha"], "eps": group["eps"], "weight_decay": group["weight_decay"],
                  "momentum": group["momentum"], "centered": group["centered"], "foreach": group["foreach"],
                  "maximize": group["maximize"], "differentiable": group["differentiable"],
                  "capturable": group["capturable"], "has_complex": complex_}
            lists = ([state["square_avg"]], [state["grad_avg"]] if group["centered"] else [],
                     [state["momentum_buffer"]] if group["momentum"] > 0 else [], [state["step"]])
            steps.append(functools.partial(_rmsprop_step, p, lists, kw))
        elif type(opt) in (optim.Adam, optim.AdamW):
            beta1, beta2 = group["betas"]
            kw = {"amsgrad": group["amsgrad"], "has_complex": complex_, "beta1": beta1, "beta2": beta2,
                  "weight_decay": group["weight_decay"], "eps": group["eps"], "maximize": group["maximize"],
                  "foreach": group["foreach"], "capturable": group["capturable"], "differentiable": group["differentiable"],
                  "fused": group["fused"], "decoupled_weight_decay": group["decoupled_weight_decay"], **common}
            lists = ([state["exp_avg"]], [state["exp_avg_sq"]], [state["max_exp_avg_sq"]] if group["amsgrad"] else [],
                     [state["step"]])
            steps.append(functools.partial(_adam_step, p, lists, kw))
        else:
            raise TypeError(f"no functional step for {type(opt).__name__}")
    return steps


def _sgd_step(p, buffers, kw, g, lr):
    sgd_impl.sgd([p], [g], buffers, lr=lr, **kw)


def _adagrad_step(p, sums, state_steps, kw, g, lr):
    adagrad_impl.adagrad([p], [g], sums, state_steps, lr=lr, **kw)


def _rmsprop_step(p, lists, kw, g, lr):
    square_avgs, grad_avgs, buffers, state_steps = lists
    rmsprop_impl.rmsprop([p], [g], square_avgs, grad_avgs, buffers, state_steps, lr=lr, **kw)


def _adam_step(p, lists, kw, g, lr):
    adam_impl.adam([p], [g], *lists, lr=lr, **kw)
