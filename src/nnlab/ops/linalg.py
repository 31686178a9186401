"""Linear algebra."""
# STUB: to be implemented


def matmul(input, other):
    """1-D, 2-D, batched broadcasting; error names shapes"""
    raise NotImplementedError('matmul')


def mm(input, mat2):
    """mm"""
    raise NotImplementedError('mm')


def bmm(input, mat2):
    """bmm"""
    raise NotImplementedError('bmm')


def outer(input, vec2):
    """outer"""
    raise NotImplementedError('outer')


def einsum(equation, *operands):
    """einsum"""
    raise NotImplementedError('einsum')
