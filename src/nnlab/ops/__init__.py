"""Floor 3: the primitive ops, one module per family. Each is a `Function` whose forward is
array code and whose backward is Tensor ops, so every op is differentiable twice."""
from .broadcast import broadcast_to, expand, sum_to
from .convert import cast, clone, to_device
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full,
                       full_like, linspace, normal, ones, ones_like, rand, rand_like,
                       randint, randint_like, randn, randn_like, random_array, tensor, zeros,
                       zeros_like)
from .elementwise import (abs, add, ceil, clamp, clip, cos, div, eq, erf, exp, floor, ge, gt,
                          isfinite, isinf, isnan, le, log, log1p, logical_and, logical_not,
                          logical_or, logical_xor, lt, masked_fill, maximum, minimum, mul, ne,
                          neg, pow, reciprocal, relu, round, rsqrt, sigmoid, sign, sin, sqrt,
                          square, sub, tan, tanh, trunc, where)
from .index import (gather, getitem, index_add, index_put, index_select, scatter_add,
                    segment_max, segment_sum)
from .linalg import bmm, einsum, matmul, mm, outer
from .reduce import (all, amax, amin, any, argmax, argmin, cumsum, logsumexp, max, mean, min,
                     norm, prod, std, sum, var)
from .shape import (cat, chunk, flatten, flip, movedim, pad, permute, repeat, reshape, roll,
                    split, squeeze, stack, tile, transpose, tril, triu, unbind, unsqueeze, view)
