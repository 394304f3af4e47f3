"""The explicit layer registry, in draw order (bottom to top) = atlas.spec.LAYER_NAMES."""

from __future__ import annotations

from atlas.spec import LAYER_NAMES
from layers.base import REGISTRY, Layer
from layers.basemap import BasemapLayer
from layers.choropleth import ChoroplethLayer
from layers.clusters import ClustersLayer
from layers.coca import CocaLayer
from layers.heat import HeatLayer
from layers.incidents import PointsLayer
from layers.reference import ReferenceLayer
from layers.regions import RegionsLayer

_CLASSES: tuple[type[Layer], ...] = (
    BasemapLayer,
    ChoroplethLayer,
    RegionsLayer,
    CocaLayer,
    HeatLayer,
    ClustersLayer,
    PointsLayer,
    ReferenceLayer,
)

REGISTRY.clear()
REGISTRY.update({cls.name: cls for cls in _CLASSES})
if tuple(REGISTRY) != LAYER_NAMES:  # pragma: no cover - a programming error
    raise RuntimeError(f"layer registry {tuple(REGISTRY)} != atlas.spec.LAYER_NAMES")


def layers_for(names: tuple[str, ...]) -> list[Layer]:
    """Layer instances for the enabled ``names``, in draw order."""
    return [cls() for name, cls in REGISTRY.items() if name in names]


__all__ = ["REGISTRY", "layers_for"]
