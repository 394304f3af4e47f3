"""CRS in one place: display frames are EPSG:4326; distances and areas use named CRSs."""

from __future__ import annotations

#: Every canonical frame (incidents, regions, basemap) is stored and displayed in this CRS.
DISPLAY_CRS = "EPSG:4326"
#: Distances and buffers in the VRAEM: WGS 84 / UTM zone 18S, metres.
METRIC_CRS = "EPSG:32718"
#: Areas: South America Albers Equal Area Conic, metres.
EQUAL_AREA_CRS = "ESRI:102033"
