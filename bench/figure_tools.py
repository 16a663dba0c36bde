"""What the figure scripts of bench/ share: matplotlib, imported headless with an install hint."""

from __future__ import annotations


def pyplot(script: str):
    """``matplotlib.pyplot`` on the Agg backend (no display needed); a usage error naming the extra if absent."""
    from absl import app

    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        raise app.UsageError(f'bench/{script} draws with matplotlib: pip install -e ".[bench]"') from None
    return plt
