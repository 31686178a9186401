"""The workloads: each module registers its classes with `@register` (see registry.py)."""
