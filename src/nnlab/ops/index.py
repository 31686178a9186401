"""Indexing."""
# STUB: to be implemented


def getitem(input, key):
    """Tensor.__getitem__"""
    raise NotImplementedError('getitem')


def index_put(input, key, value):
    """out-of-place: copy of input with input[key] = value"""
    raise NotImplementedError('index_put')


def gather(input, dim, index):
    """gather"""
    raise NotImplementedError('gather')


def scatter_add(input, dim, index, src):
    """scatter_add"""
    raise NotImplementedError('scatter_add')


def index_select(input, dim, index):
    """index_select"""
    raise NotImplementedError('index_select')


def index_add(input, dim, index, source, alpha=1):
    """index_add"""
    raise NotImplementedError('index_add')


def segment_sum(data, segment_ids, num_segments=None):
    """segment_sum"""
    raise NotImplementedError('segment_sum')


def segment_max(data, segment_ids, num_segments=None):
    """segment_max"""
    raise NotImplementedError('segment_max')
