"""Interface text in English and Peruvian Spanish, and number/date formats for both.

Every string the app shows, and the map, popup and legend labels layers/ draws, live in
the one table :data:`STRINGS` with an ``en`` and an ``es`` entry; :func:`t` looks one up
and fills ``{placeholders}``. Numbers and dates follow CLDR: English and es-PE both group
thousands with "," and use "." for decimals (es-PE differs from es-ES here); es-PE dates
are dd/mm/yyyy with Spanish month names.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from atlas.errors import InputError

LANGS: tuple[str, ...] = ("en", "es")

MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
}  # fmt: skip

#: key -> {"en": ..., "es": ...}. Placeholders are ``{name}`` and must match in both.
STRINGS: dict[str, dict[str, str]] = {
    # ---- page --------------------------------------------------------------------------
    "page_title": {"en": "Conflict Atlas: VRAEM", "es": "Atlas de conflictos: VRAEM"},
    "page_caption": {
        "en": "Violent incidents and coca-growing regions in Peru's VRAEM "
        "(valley of the Apurímac, Ene and Mantaro rivers).",
        "es": "Incidentes violentos y zonas cocaleras en el VRAEM del Perú "
        "(valle de los ríos Apurímac, Ene y Mantaro).",
    },
    "sample_banner": {
        "en": "SAMPLE DATA: the incidents on this page are synthetic, generated to show how "
        "the atlas works. They are not real events. Load an ACLED or UCDP export to map "
        "real incidents.",
        "es": "DATOS DE MUESTRA: los incidentes de esta página son sintéticos, generados para "
        "mostrar cómo funciona el atlas. No son hechos reales. Cargue una exportación de "
        "ACLED o UCDP para mapear incidentes reales.",
    },
    "sample_notice": {
        "en": "SAMPLE DATA: synthetic incidents, not real events. [Details](#data-sources)",
        "es": "DATOS DE MUESTRA: incidentes sintéticos, no hechos reales. "
        "[Detalles](#data-sources)",
    },
    "source_line": {
        "en": "Incidents: {sources} · latest event {day}",
        "es": "Incidentes: {sources} · último evento {day}",
    },
    "step_player_note": {
        "en": "Play, or step with the arrows, in the bar at the top of the map.",
        "es": "Reproduzca, o avance con las flechas, en la barra de la parte superior del mapa.",
    },
    "coca_year": {"en": "Coca year (departments)", "es": "Año de coca (departamentos)"},
    "coca_year_latest": {"en": "Latest ({year})", "es": "Último ({year})"},
    "coca_panel_title": {
        "en": "Incidents per 1,000 ha of coca, by department and year",
        "es": "Incidentes por cada 1,000 ha de coca, por departamento y año",
    },
    "coca_panel_caveat": {
        "en": "Incidents in the view dated that year, per 1,000 ha of coca in the department "
        "(DEVIDA). Department coca is not where incidents happen: this is a ratio, not a "
        "cause, and a department with much coca and few incidents is not evidence of calm.",
        "es": "Incidentes de la vista fechados en ese año, por cada 1,000 ha de coca del "
        "departamento (DEVIDA). La coca del departamento no es el lugar de los incidentes: es "
        "una razón, no una causa, y un departamento con mucha coca y pocos incidentes no "
        "prueba calma.",
    },
    "coca_col_department": {"en": "Department", "es": "Departamento"},
    "coca_col_year": {"en": "Year", "es": "Año"},
    "coca_col_hectares": {"en": "Coca (ha)", "es": "Coca (ha)"},
    "coca_col_per_1000ha": {"en": "Incidents per 1,000 ha", "es": "Incidentes por 1,000 ha"},
    "link_needs_file": {
        "en": "This view was made with data that is not loaded here: {names}. Links never "
        "carry data; upload the same file (Load your own data, below) to see this view.",
        "es": "Esta vista se hizo con datos que no están cargados aquí: {names}. Los enlaces "
        "nunca llevan datos; cargue el mismo archivo (Cargar sus propios datos, abajo) para "
        "ver esta vista.",
    },
    "upload_pick_intro": {
        "en": "The atlas did not recognise the coordinate columns of this file. Say which "
        "columns hold the latitude, the longitude and (if there is one) the date.",
        "es": "El atlas no reconoció las columnas de coordenadas de este archivo. Indique qué "
        "columnas tienen la latitud, la longitud y (si la hay) la fecha.",
    },
    "upload_pick_lat": {"en": "Latitude column", "es": "Columna de latitud"},
    "upload_pick_lon": {"en": "Longitude column", "es": "Columna de longitud"},
    "upload_pick_date": {"en": "Date column", "es": "Columna de fecha"},
    "upload_pick_choose": {"en": "Choose a column", "es": "Elija una columna"},
    "upload_pick_read": {"en": "Read with these columns", "es": "Leer con estas columnas"},
    "upload_pick_need": {
        "en": "Choose two different columns for latitude and longitude.",
        "es": "Elija dos columnas distintas para la latitud y la longitud.",
    },
    "export_sources": {
        "en": "Sources and caveats (Markdown)",
        "es": "Fuentes y advertencias (Markdown)",
    },
    "about_title": {"en": "Data, sources and downloads", "es": "Datos, fuentes y descargas"},
    "approx_note": {
        "en": "Approximate boundary: {regions} drawn from simplified or approximate geometry; "
        "counts near the edge may be wrong. Fetch exact district boundaries in the "
        "'Fetch data' panel.",
        "es": "Límite aproximado: {regions} se dibuja con geometría simplificada o aproximada; "
        "los conteos cerca del borde pueden fallar. Descargue los límites distritales "
        "exactos en el panel 'Descargar datos'.",
    },
    "counts": {
        "en": "{incidents} incidents, {deaths} deaths (best estimate), {inside} inside the "
        "{region}",
        "es": "{incidents} incidentes, {deaths} muertes (mejor estimación), {inside} dentro "
        "del {region}",
    },
    "counts_no_region": {
        "en": "{incidents} incidents, {deaths} deaths (best estimate)",
        "es": "{incidents} incidentes, {deaths} muertes (mejor estimación)",
    },
    "period": {"en": "Period: {start} to {end}", "es": "Periodo: del {start} al {end}"},
    "hidden_precision": {
        "en": "{n} events known only to department or country level are counted but not drawn.",
        "es": "{n} eventos conocidos solo a nivel de departamento o país se cuentan pero no "
        "se dibujan.",
    },
    "deaths_unknown": {
        "en": "{n} events have no fatality figure; they count as 0 deaths.",
        "es": "{n} eventos no tienen cifra de víctimas; cuentan como 0 muertes.",
    },
    "no_match_because": {
        "en": "Nothing to draw: switching off one of these filters would show incidents: "
        "{filters}. An empty map is not evidence that no violence happened.",
        "es": "Nada que dibujar: quitar uno de estos filtros mostraría incidentes: {filters}. "
        "Un mapa vacío no prueba que no hubo violencia.",
    },
    "filter_dates": {"en": "dates", "es": "fechas"},
    "filter_event_types": {"en": "event types", "es": "tipos de evento"},
    "filter_actor": {"en": "actor", "es": "actor"},
    "filter_min_fatalities": {"en": "minimum deaths", "es": "muertes mínimas"},
    "filter_datasets": {"en": "datasets", "es": "conjuntos de datos"},
    "filter_precisions": {"en": "location precision", "es": "precisión de ubicación"},
    "reset_filters": {"en": "Reset filters", "es": "Restablecer filtros"},
    "reset_filters_help": {
        "en": "All dates, all types, no actor or death threshold, default precision. The map "
        "view, layers and language stay.",
        "es": "Todas las fechas y tipos, sin actor ni mínimo de muertes, precisión por defecto. "
        "La vista del mapa, las capas y el idioma se mantienen.",
    },
    "no_match": {
        "en": "No incidents match these filters. An empty map is not evidence that no "
        "violence happened.",
        "es": "Ningún incidente cumple estos filtros. Un mapa vacío no prueba que no hubo "
        "violencia.",
    },
    "bad_url": {
        "en": "The link has a setting that cannot be used ({error}). The default view is "
        "shown instead.",
        "es": "El enlace tiene un ajuste que no se puede usar ({error}). Se muestra la vista "
        "predeterminada.",
    },
    "map_failed": {
        "en": "The map could not be drawn: {error}",
        "es": "No se pudo dibujar el mapa: {error}",
    },
    "data_failed": {
        "en": "The data could not be loaded: {error}",
        "es": "No se pudieron cargar los datos: {error}",
    },
    # ---- sidebar: filters -----------------------------------------------------------------
    "language": {"en": "Language / Idioma", "es": "Idioma / Language"},
    "filters": {"en": "Filters", "es": "Filtros"},
    "date_range": {"en": "Date range", "es": "Rango de fechas"},
    "date_range_help": {
        "en": "Inclusive. An event counts if any day of it falls in the range.",
        "es": "Inclusivo. Un evento cuenta si algún día suyo cae en el rango.",
    },
    "quick_range": {"en": "Quick range", "es": "Rango rápido"},
    "quick_custom": {"en": "Custom", "es": "Personalizado"},
    "quick_all": {"en": "All dates", "es": "Todas las fechas"},
    "quick_last12": {"en": "Last 12 months of the data", "es": "Últimos 12 meses de los datos"},
    "quick_year": {"en": "Year {year}", "es": "Año {year}"},
    "bucket": {"en": "Time step", "es": "Paso de tiempo"},
    "bucket_week": {"en": "Week", "es": "Semana"},
    "bucket_month": {"en": "Month", "es": "Mes"},
    "bucket_quarter": {"en": "Quarter", "es": "Trimestre"},
    "bucket_year": {"en": "Year", "es": "Año"},
    "event_types": {"en": "Event types", "es": "Tipos de evento"},
    "event_types_help": {"en": "Empty means all types.", "es": "Vacío significa todos."},
    "actor": {"en": "Actor contains", "es": "Actor contiene"},
    "actor_help": {
        "en": "Searches both actors; ignores case and accents.",
        "es": "Busca en ambos actores; ignora mayúsculas y tildes.",
    },
    "min_fatalities": {"en": "Minimum deaths", "es": "Muertes mínimas"},
    "datasets": {"en": "Datasets", "es": "Conjuntos de datos"},
    "precisions": {"en": "Location precision drawn", "es": "Precisión de ubicación dibujada"},
    "precisions_help": {
        "en": "Events with other precisions are counted but not drawn.",
        "es": "Los eventos con otra precisión se cuentan pero no se dibujan.",
    },
    "precision_exact": {"en": "exact place", "es": "lugar exacto"},
    "precision_near": {"en": "near a place", "es": "cerca de un lugar"},
    "precision_admin2": {"en": "province / district", "es": "provincia / distrito"},
    "precision_admin1": {"en": "department only", "es": "solo departamento"},
    "precision_country": {"en": "country only", "es": "solo país"},
    "all": {"en": "All", "es": "Todos"},
    "none": {"en": "None", "es": "Ninguna"},
    "region_layer": {"en": "Region layer", "es": "Capa de regiones"},
    "region": {"en": "Compare inside region", "es": "Comparar dentro de la región"},
    # ---- sidebar: layers ---------------------------------------------------------------
    "layers": {"en": "Layers", "es": "Capas"},
    "layer_points": {"en": "Incidents (points)", "es": "Incidentes (puntos)"},
    "layer_clusters": {"en": "Incident clusters", "es": "Grupos de incidentes"},
    "layer_heat": {"en": "Heat map", "es": "Mapa de calor"},
    "layer_choropleth": {"en": "Choropleth by region", "es": "Coropletas por región"},
    "layer_regions": {"en": "Region outlines", "es": "Contornos de regiones"},
    "layer_coca": {"en": "Coca-growing zones", "es": "Zonas cocaleras"},
    "layer_reference": {"en": "Reference event", "es": "Evento de referencia"},
    "metric": {"en": "Choropleth value", "es": "Valor de coropletas"},
    "metric_count": {"en": "Incident count", "es": "Número de incidentes"},
    "metric_per_area": {"en": "Per 1,000 km²", "es": "Por cada 1,000 km²"},
    "basemap": {"en": "Basemap", "es": "Mapa base"},
    "basemap_outlines": {"en": "Outlines (offline)", "es": "Contornos (sin conexión)"},
    "basemap_osm": {
        "en": "OpenStreetMap (© OpenStreetMap contributors)",
        "es": "OpenStreetMap (© colaboradores de OpenStreetMap)",
    },
    "basemap_carto": {
        "en": "CARTO light (© OpenStreetMap contributors © CARTO)",
        "es": "CARTO claro (© colaboradores de OpenStreetMap © CARTO)",
    },
    "tiles_note": {
        "en": "Tile basemaps need internet access; offline, use Outlines.",
        "es": "Los mapas base de teselas necesitan internet; sin conexión use Contornos.",
    },
    # ---- chart and steps ---------------------------------------------------------------
    "chart_title": {
        "en": "Incidents and deaths per {bucket}, inside vs outside the {region}",
        "es": "Incidentes y muertes por {bucket}, dentro y fuera del {region}",
    },
    "inside": {"en": "inside", "es": "dentro"},
    "outside": {"en": "outside", "es": "fuera"},
    "incidents": {"en": "Incidents", "es": "Incidentes"},
    "fatalities": {"en": "Deaths (best estimate)", "es": "Muertes (mejor estimación)"},
    "chart_week_of": {"en": "week of {day}", "es": "semana del {day}"},
    "chart_quarter": {"en": "Q{q} {year}", "es": "trimestre {q} de {year}"},
    "chart_tooltip": {
        "en": "{period}. {inside}: {n_in} incidents, {d_in} deaths; {outside}: {n_out} "
        "incidents, {d_out} deaths",
        "es": "{period}. {inside}: {n_in} incidentes, {d_in} muertes; {outside}: {n_out} "
        "incidentes, {d_out} muertes",
    },
    "chart_label": {
        "en": "Chart of incidents and deaths per step, inside and outside the region, from "
        "{first} to {last}",
        "es": "Gráfico de incidentes y muertes por paso, dentro y fuera de la región, de "
        "{first} a {last}",
    },
    "step_title": {"en": "Step through time", "es": "Recorrer el tiempo"},
    "step_on": {"en": "Show one step on the map", "es": "Mostrar un paso en el mapa"},
    "step_slider": {"en": "Step", "es": "Paso"},
    "step_mode": {"en": "Mode", "es": "Modo"},
    "step_cumulative": {"en": "Cumulative", "es": "Acumulado"},
    "step_window": {"en": "Moving window", "es": "Ventana móvil"},
    "step_next": {"en": "Next step (play one bucket)", "es": "Paso siguiente (avanza uno)"},
    "step_prev": {"en": "Previous step", "es": "Paso anterior"},
    "step_play": {"en": "Play", "es": "Reproducir"},
    "step_play_help": {
        "en": "Advance one step every second until the last one",
        "es": "Avanza un paso por segundo hasta el último",
    },
    "step_counts": {
        "en": "In this step ({start} – {end}): {counts}",
        "es": "En este paso ({start} – {end}): {counts}",
    },
    "step_showing": {
        "en": "Map shows {start} to {end}.",
        "es": "El mapa muestra del {start} al {end}.",
    },
    # the map's own time player (layers/timeplayer.py)
    "player_label": {"en": "Play through time", "es": "Recorrer el tiempo"},
    "player_play": {"en": "Play", "es": "Reproducir"},
    "player_pause": {"en": "Pause", "es": "Pausa"},
    "player_prev": {"en": "Previous step", "es": "Paso anterior"},
    "player_next": {"en": "Next step", "es": "Paso siguiente"},
    "player_slider": {"en": "Step", "es": "Paso"},
    "player_range": {"en": "{start} to {end}", "es": "del {start} al {end}"},
    "player_shown": {"en": "{n} incidents", "es": "{n} incidentes"},
    "player_shown_one": {"en": "1 incident", "es": "1 incidente"},
    "player_cells_note": {
        "en": "Large selection: circles count incidents per 0.1° cell (~11 km).",
        "es": "Selección grande: los círculos cuentan incidentes por celda de 0.1° (~11 km).",
    },
    "player_cell_tip": {
        "en": "{n} incidents in this cell",
        "es": "{n} incidentes en esta celda",
    },
    "player_cell_tip_one": {"en": "1 incident in this cell", "es": "1 incidente en esta celda"},
    # ---- upload --------------------------------------------------------------------------
    "upload_title": {"en": "Load your own data", "es": "Cargar sus propios datos"},
    "upload_kind": {"en": "The file holds", "es": "El archivo contiene"},
    "upload_incidents": {
        "en": "Incidents (ACLED, UCDP or any table with coordinates)",
        "es": "Incidentes (ACLED, UCDP o cualquier tabla con coordenadas)",
    },
    "upload_regions": {"en": "Regions (polygons)", "es": "Regiones (polígonos)"},
    "upload_file": {"en": "File", "es": "Archivo"},
    "upload_help": {
        "en": "CSV, TSV, XLSX, GeoJSON, JSON, GeoPackage, zipped shapefile or KML; up to {mb} MB.",
        "es": "CSV, TSV, XLSX, GeoJSON, JSON, GeoPackage, shapefile comprimido o KML; hasta "
        "{mb} MB.",
    },
    "upload_too_big": {
        "en": "{name}: the file is {size} MB, over the {mb} MB limit; filter it before uploading.",
        "es": "{name}: el archivo pesa {size} MB, más que el límite de {mb} MB; fíltrelo "
        "antes de cargarlo.",
    },
    "load_report": {"en": "Load report", "es": "Informe de carga"},
    "report_counts": {
        "en": "{name}: {read} rows read, {kept} kept, {rejected} left out.",
        "es": "{name}: {read} filas leídas, {kept} conservadas, {rejected} excluidas.",
    },
    # ---- load report: rejection reasons (atlas.schema.REJECTION_REASONS) ------------
    "reason_no_coordinates": {"en": "no coordinates", "es": "sin coordenadas"},
    "reason_unparseable_coordinates": {
        "en": "coordinates could not be read as numbers",
        "es": "las coordenadas no se pudieron leer como números",
    },
    "reason_out_of_range": {
        "en": "coordinates outside the world (lat -90..90, lon -180..180)",
        "es": "coordenadas fuera del mundo (lat -90..90, lon -180..180)",
    },
    "reason_swapped_coordinates": {
        "en": "latitude and longitude look swapped",
        "es": "latitud y longitud parecen intercambiadas",
    },
    "reason_null_island": {
        "en": "coordinates at (0, 0), a common placeholder for unknown",
        "es": "coordenadas en (0, 0), un valor de relleno habitual para «desconocido»",
    },
    "reason_no_date": {"en": "no date", "es": "sin fecha"},
    "reason_unparseable_date": {"en": "date could not be read", "es": "la fecha no se pudo leer"},
    "reason_end_before_start": {
        "en": "end date before start date",
        "es": "fecha final anterior a la inicial",
    },
    "reason_duplicate_event_id": {
        "en": "duplicate event_id (the first occurrence was kept)",
        "es": "event_id repetido (se conservó la primera aparición)",
    },
    "reason_empty_geometry": {"en": "empty geometry", "es": "geometría vacía"},
    "reason_not_a_point": {"en": "geometry is not a point", "es": "la geometría no es un punto"},
    "reason_invalid_fatalities": {
        "en": "fatalities is not a non-negative number",
        "es": "las muertes no son un número no negativo",
    },
    "reason_not_a_polygon": {
        "en": "geometry is not a polygon",
        "es": "la geometría no es un polígono",
    },
    "reason_invalid_geometry": {
        "en": "geometry is invalid and has no polygon area after repair",
        "es": "la geometría es inválida y no tiene área de polígono tras repararla",
    },
    "reason_no_region_id": {"en": "no region id", "es": "sin identificador de región"},
    "report_left_out": {"en": "{n} left out: {reasons}.", "es": "{n} excluidas: {reasons}."},
    "report_reason_rows": {"en": "{n} {reason} (rows {rows})", "es": "{n} {reason} (filas {rows})"},
    "report_none_left_out": {
        "en": "{name}: {read} rows read, {kept} kept, none left out.",
        "es": "{name}: {read} filas leídas, {kept} conservadas, ninguna excluida.",
    },
    "sample_dataset": {"en": "synthetic sample", "es": "muestra sintética"},
    "upload_button": {"en": "Choose a file", "es": "Elegir un archivo"},
    "upload_instructions": {
        "en": "Up to {mb} MB · {types}",
        "es": "Hasta {mb} MB · {types}",
    },
    "report_reason": {"en": "Reason", "es": "Motivo"},
    "report_rows": {"en": "Rows", "es": "Filas"},
    "report_examples": {"en": "Example rows", "es": "Filas de ejemplo"},
    "report_warnings": {"en": "Warnings", "es": "Advertencias"},
    "use_data": {"en": "Use this data", "es": "Usar estos datos"},
    "in_use": {
        "en": "Using {name}: {kept} rows.",
        "es": "Usando {name}: {kept} filas.",
    },
    "remove_upload": {"en": "Stop using uploaded data", "es": "Dejar de usar datos cargados"},
    "nothing_kept": {
        "en": "{name}: no usable rows; nothing to map.",
        "es": "{name}: ninguna fila utilizable; nada que mapear.",
    },
    # ---- sources -------------------------------------------------------------------------
    "sources_title": {"en": "Data sources and caveats", "es": "Fuentes de datos y advertencias"},
    "src_name": {"en": "Dataset", "es": "Conjunto"},
    "src_version": {"en": "Version / accessed", "es": "Versión / consulta"},
    "src_licence": {"en": "Licence", "es": "Licencia"},
    "src_caveats": {"en": "Caveats", "es": "Advertencias"},
    "src_sample": {"en": "Synthetic sample", "es": "Muestra sintética"},
    "src_url": {"en": "Link", "es": "Enlace"},
    "yes": {"en": "yes", "es": "sí"},
    "no": {"en": "no", "es": "no"},
    "caveat_acled": {
        "en": "ACLED records political violence and protest; it excludes ordinary crime.",
        "es": "ACLED registra violencia política y protestas; excluye la delincuencia común.",
    },
    "caveat_ucdp": {
        "en": "UCDP GED counts organised lethal violence only (at least one death).",
        "es": "UCDP GED cuenta solo violencia organizada letal (al menos una muerte).",
    },
    "caveat_empty": {
        "en": "An area with no points is not evidence of no violence: it may be unreported.",
        "es": "Un área sin puntos no prueba que no hubo violencia: puede no estar registrada.",
    },
    "load_reports_title": {"en": "What was loaded", "es": "Qué se cargó"},
    # ---- share and downloads -------------------------------------------------------------
    "share_title": {"en": "Share this view", "es": "Compartir esta vista"},
    "copy_link": {
        "en": "Copy this link (it carries the filters, layers, time window and map view):",
        "es": "Copie este enlace (lleva los filtros, capas, periodo y vista del mapa):",
    },
    "downloads_title": {"en": "Downloads", "es": "Descargas"},
    "dl_csv": {"en": "Filtered incidents (CSV)", "es": "Incidentes filtrados (CSV)"},
    "dl_geojson": {"en": "Filtered incidents (GeoJSON)", "es": "Incidentes filtrados (GeoJSON)"},
    "dl_regions": {"en": "Per-region summary (CSV)", "es": "Resumen por región (CSV)"},
    "dl_spec": {"en": "Map spec (JSON)", "es": "Especificación del mapa (JSON)"},
    "dl_note": {
        "en": "CSV cells that look like spreadsheet formulas are prefixed with ' for safety.",
        "es": "Las celdas CSV que parecen fórmulas de hoja de cálculo llevan ' por seguridad.",
    },
    # ---- export --------------------------------------------------------------------------
    "export_title": {"en": "Export a publication map", "es": "Exportar un mapa para publicar"},
    "export_size": {"en": "Size preset", "es": "Tamaño predefinido"},
    "export_title_field": {"en": "Title", "es": "Título"},
    "export_dek": {"en": "Subtitle (dek)", "es": "Bajada"},
    "export_notes": {"en": "Notes", "es": "Notas"},
    "export_source": {"en": "Source line", "es": "Línea de fuente"},
    "export_byline": {"en": "Byline", "es": "Firma"},
    "export_format": {"en": "Format", "es": "Formato"},
    "export_scale": {"en": "Scale (PNG)", "es": "Escala (PNG)"},
    "export_density": {
        "en": "Incidents drawn as (image files)",
        "es": "Incidentes dibujados como (imágenes)",
    },
    "density_auto": {
        "en": "automatic: hexagons when the points pile up",
        "es": "automático: hexágonos cuando los puntos se amontonan",
    },
    "density_points": {"en": "points", "es": "puntos"},
    "density_hexagons": {"en": "hexagons (count per area)", "es": "hexágonos (conteo por área)"},
    "export_button": {"en": "Generate export", "es": "Generar exportación"},
    "export_download": {"en": "Download {fmt}", "es": "Descargar {fmt}"},
    "export_done": {"en": "Export ready: {name}", "es": "Exportación lista: {name}"},
    "export_accessed": {
        "en": "ACLED data downloaded on",
        "es": "Datos de ACLED descargados el",
    },
    "export_accessed_help": {
        "en": "ACLED's terms ask for the access date beside the credit; the image's source "
        "line says 'ACLED (accessed …)'. Left empty, it says \"access date not recorded\".",
        "es": "Los términos de ACLED piden la fecha de consulta junto al crédito; la línea de "
        "fuente dirá 'ACLED (consultado el …)'. Si se deja vacío, dirá \"fecha de consulta no registrada\".",
    },
    "export_dropped": {
        "en": "Left off the page for lack of room: {parts}. A larger size keeps them.",
        "es": "Quedó fuera de la página por falta de espacio: {parts}. Un tamaño mayor lo "
        "conserva.",
    },
    "export_unavailable": {
        "en": "Export is not available yet: {error}",
        "es": "La exportación aún no está disponible: {error}",
    },
    # ---- fetch ---------------------------------------------------------------------------
    "fetch_title": {"en": "Fetch data", "es": "Descargar datos"},
    "fetch_intro": {
        "en": "Sources the atlas can download, with their licences:",
        "es": "Fuentes que el atlas puede descargar, con sus licencias:",
    },
    "fetch_districts": {
        "en": "Fetch district boundaries (an extra region layer)",
        "es": "Descargar límites distritales (una capa de regiones adicional)",
    },
    "fetch_offline": {
        "en": "No internet: {error} The shipped 2023 boundaries stay in use.",
        "es": "Sin internet: {error} Se siguen usando los límites de 2023 incluidos.",
    },
    "fetch_failed": {
        "en": "Download failed: {error} The shipped 2023 boundaries stay in use.",
        "es": "La descarga falló: {error} Se siguen usando los límites de 2023 incluidos.",
    },
    "fetch_done": {
        "en": "Downloaded district boundaries added as a region layer; the VRAEM stays the "
        "shipped 24-district zone.",
        "es": "Límites distritales descargados añadidos como capa de regiones; el VRAEM sigue "
        "siendo la zona de 24 distritos incluida.",
    },
    "fetch_unavailable": {
        "en": "Fetching is not available in this build: {error}",
        "es": "La descarga no está disponible en esta versión: {error}",
    },
    # ---- reference map (layers/basemap.py, layers/coca.py) ---------------------------------
    "country_604": {"en": "Peru", "es": "Perú"},
    "country_076": {"en": "Brazil", "es": "Brasil"},
    "country_068": {"en": "Bolivia", "es": "Bolivia"},
    "country_152": {"en": "Chile", "es": "Chile"},
    "country_218": {"en": "Ecuador", "es": "Ecuador"},
    "country_170": {"en": "Colombia", "es": "Colombia"},
    "bm_departments": {
        "en": "Department lines (INEI 2023)",
        "es": "Límites departamentales (INEI 2023)",
    },
    "bm_provinces": {"en": "Province lines (INEI 2023)", "es": "Límites provinciales (INEI 2023)"},
    "bm_rivers": {"en": "Rivers (Natural Earth)", "es": "Ríos (Natural Earth)"},
    "bm_towns": {"en": "Towns", "es": "Localidades"},
    "bm_zone_caption": {
        "en": "DEVIDA coca-monitoring zone (24 districts)",
        "es": "Zona de monitoreo de coca de DEVIDA (24 distritos)",
    },
    "coca_no_data": {"en": "no data", "es": "sin datos"},
    "coca_or_more": {"en": "{n} ha or more", "es": "{n} ha o más"},
    "coca_legend_head": {
        "en": "Coca {year}, hectares by department ({source})",
        "es": "Coca {year}, hectáreas por departamento ({source})",
    },
    "coca_zone_series": {
        "en": "{zone} zone (not a department sum): {series}",
        "es": "Zona {zone} (no es suma de departamentos): {series}",
    },
    "coca_tooltip_ha": {"en": "Coca", "es": "Coca"},
    "coca_tooltip_year": {"en": "Year", "es": "Año"},
    "coca_popup_source": {"en": "Source", "es": "Fuente"},
    "coca_popup_per_ha": {
        "en": "Incidents shown in that year per 1,000 ha of coca",
        "es": "Incidentes mostrados en ese año por 1000 ha de coca",
    },
    "coca_not_in_table": {
        "en": "not in the DEVIDA department table 2018-2022",
        "es": "no figura en la tabla departamental de DEVIDA 2018-2022",
    },
    "coca_per_ha_caveat": {
        "en": "department coca is not where incidents happen: a ratio, not a cause",
        "es": "la coca del departamento no es el lugar de los incidentes: una razón, no una causa",
    },
    "coca_method": {
        "en": "Coca {year}: hectares by department, {source} {url}; departments without a "
        "figure are 'no data', not zero. {zone}",
        "es": "Coca {year}: hectáreas por departamento, {source} {url}; los departamentos sin "
        "cifra son 'sin datos', no cero. {zone}",
    },
    "rivers_note": {
        "en": "Rivers: Natural Earth 10m; its 'Ucayali' is split and named Apurímac, Ene, Tambo "
        "and Ucayali at the confluences nearest Boca Mantaro, Puerto Prado and Atalaya "
        "(INEI centros poblados); the Mantaro, Perené and Urubamba themselves are not drawn "
        "(absent from Natural Earth 10m).",
        "es": "Ríos: Natural Earth 10m; su 'Ucayali' se divide y nombra Apurímac, Ene, Tambo y "
        "Ucayali en las confluencias más cercanas a Boca Mantaro, Puerto Prado y Atalaya "
        "(centros poblados del INEI); el Mantaro, el Perené y el Urubamba no se dibujan "
        "(no están en Natural Earth 10m).",
    },
    # ---- misc ------------------------------------------------------------------------------
    "region_summary": {"en": "Per-region summary", "es": "Resumen por región"},
    "legend_note": {
        "en": "Colour: event type. Size: deaths (best estimate).",
        "es": "Color: tipo de evento. Tamaño: muertes (mejor estimación).",
    },
    # ---- the HTML export's page (layers/htmlpage.py) ------------------------------------
    "layer_callouts": {"en": "Callouts", "es": "Anotaciones"},
    "callouts_title": {"en": "Callouts on the map", "es": "Anotaciones en el mapa"},
    "callout_mode": {
        "en": "Click the map to place a callout",
        "es": "Hacer clic en el mapa para colocar una anotación",
    },
    "callout_click": {
        "en": "Click the place on the map the callout points to.",
        "es": "Haga clic en el lugar del mapa al que apunta la anotación.",
    },
    "callout_at": {
        "en": "Callout at latitude {lat}, longitude {lon}.",
        "es": "Anotación en latitud {lat}, longitud {lon}.",
    },
    "callout_text": {"en": "Callout text", "es": "Texto de la anotación"},
    "callout_add": {"en": "Add callout", "es": "Añadir anotación"},
    "callout_remove": {"en": "Remove", "es": "Quitar"},
    "html_default_title": {"en": "Conflict Atlas map", "es": "Mapa de Conflict Atlas"},
    "html_source": {"en": "Source", "es": "Fuente"},
    "html_note": {"en": "Note", "es": "Nota"},
    "html_map_by": {"en": "Map", "es": "Mapa"},
    "html_credits_title": {"en": "Credits and data", "es": "Créditos y datos"},
    "html_credits": {
        "en": "Made with Conflict Atlas; the map is drawn by Leaflet (BSD-2-Clause) through "
        "folium (MIT). The datasets, with their versions and licences:",
        "es": "Hecho con Conflict Atlas; el mapa lo dibuja Leaflet (BSD-2-Clause) mediante "
        "folium (MIT). Los conjuntos de datos, con sus versiones y licencias:",
    },
    # ---- map and print labels (layers/) ------------------------------------------------
    "map_sample_banner": {
        "en": "SAMPLE DATA — synthetic incidents",
        "es": "DATOS DE MUESTRA — incidentes sintéticos",
    },
    "sample_short": {"en": "SAMPLE (synthetic)", "es": "MUESTRA (sintético)"},
    "approximate_banner": {"en": "approximate boundary", "es": "límite aproximado"},
    "approximate_outline": {"en": "approximate outline", "es": "contorno aproximado"},
    "map_fatalities": {"en": "fatalities", "es": "víctimas mortales"},
    "map_fatality": {"en": "fatality", "es": "víctima mortal"},
    "date": {"en": "Date", "es": "Fecha"},
    "type": {"en": "Type", "es": "Tipo"},
    "actors": {"en": "Actors", "es": "Actores"},
    "location": {"en": "Location", "es": "Lugar"},
    "dataset": {"en": "Dataset", "es": "Conjunto de datos"},
    "source": {"en": "Source", "es": "Fuente"},
    "notes": {"en": "Notes", "es": "Notas"},
    "precision": {"en": "precision", "es": "precisión"},
    "in_source": {"en": "source", "es": "en la fuente"},
    "date_prec_day": {"en": "day", "es": "día"},
    "date_prec_week": {"en": "week", "es": "semana"},
    "date_prec_month": {"en": "month", "es": "mes"},
    "date_prec_year": {"en": "year", "es": "año"},
    "unknown": {"en": "unknown", "es": "desconocido"},
    "countries": {
        "en": "Country outlines (Natural Earth)",
        "es": "Límites de países (Natural Earth)",
    },
    "heat": {
        "en": "Heat: incidents weighted by fatalities + 1",
        "es": "Calor: incidentes ponderados por víctimas + 1",
    },
    "clusters": {"en": "Incident clusters (count)", "es": "Grupos de incidentes (número)"},
    "reference": {"en": "Reference event (sourced)", "es": "Evento de referencia (con fuente)"},
    "reference_caveat": {
        "en": "coordinates: INEI centro poblado point, not the exact site",
        "es": "coordenadas: punto de centro poblado del INEI, no el sitio exacto",
    },
    "per_area": {"en": "Incidents per 1,000 km²", "es": "Incidentes por 1000 km²"},
    "count": {"en": "Incidents per region", "es": "Incidentes por región"},
    "choro_count_department": {
        "en": "Incidents per department (zoom in for districts)",
        "es": "Incidentes por departamento (acerque para ver distritos)",
    },
    "facts_title": {"en": "Numbers for the article", "es": "Cifras para la nota"},
    "facts_intro": {
        "en": "The view's key numbers, each with the filters, boundary vintage and input file "
        "they come from: text to paste into an article (the same as `conflict-atlas facts`).",
        "es": "Las cifras clave de la vista, cada una con los filtros, la versión de límites y "
        "el archivo de entrada de los que provienen: texto para pegar en una nota (lo mismo "
        "que `conflict-atlas facts`).",
    },
    "facts_show": {"en": "Compute the numbers", "es": "Calcular las cifras"},
    "facts_dl_md": {"en": "Numbers (Markdown)", "es": "Cifras (Markdown)"},
    "facts_dl_json": {"en": "Numbers (JSON)", "es": "Cifras (JSON)"},
    "facts_basis": {"en": "What these numbers rest on", "es": "En qué se basan estas cifras"},
    "facts_counts": {
        "en": "{n} incidents with {deaths} deaths from {start} to {end}.",
        "es": "{n} incidentes con {deaths} muertes del {start} al {end}.",
    },
    "facts_range": {
        "en": "Deaths, low to high estimate (UCDP): {low} to {high}.",
        "es": "Muertes, estimación baja a alta (UCDP): de {low} a {high}.",
    },
    "facts_unknown": {
        "en": "{n} of these incidents have no death figure (counted as 0 above).",
        "es": "{n} de estos incidentes no tienen cifra de muertes (contados como 0 arriba).",
    },
    "facts_imprecise": {
        "en": "{n} of them are known only to department or country level and are in no "
        "region count.",
        "es": "{n} de ellos solo se conocen a nivel de departamento o país y no entran en "
        "ningún conteo por región.",
    },
    "facts_inside": {
        "en": "Inside {region}: {n} incidents with {deaths} deaths; outside it: {outside}.",
        "es": "Dentro de {region}: {n} incidentes con {deaths} muertes; fuera: {outside}.",
    },
    "facts_previous": {
        "en": "The period before, of the same length ({start} to {end}): {n} incidents with "
        "{deaths} deaths; change in incidents: {change}.",
        "es": "El periodo anterior de igual duración (del {start} al {end}): {n} incidentes "
        "con {deaths} muertes; cambio en incidentes: {change}.",
    },
    "facts_previous_uncovered": {
        "en": "The data does not cover the whole period before ({start} to {end}): no comparison.",
        "es": "Los datos no cubren todo el periodo anterior (del {start} al {end}): sin "
        "comparación.",
    },
    "facts_change_new": {"en": "none before", "es": "ninguno antes"},
    "facts_top": {
        "en": "Top {n} districts by incidents (INEI ubigeo): {items}.",
        "es": "Los {n} distritos con más incidentes (ubigeo INEI): {items}.",
    },
    "facts_coca_item": {
        "en": "{name} {n} incidents, {ha} ha of coca, {rate} per 1,000 ha",
        "es": "{name} {n} incidentes, {ha} ha de coca, {rate} por 1000 ha",
    },
    "facts_coca": {
        "en": "Coca, {year}, by department: {items} ({caveat}).",
        "es": "Coca, {year}, por departamento: {items} ({caveat}).",
    },
    "facts_filters": {"en": "Filters: {filters}.", "es": "Filtros: {filters}."},
    "facts_no_filter": {"en": "none", "es": "ninguno"},
    "facts_vintage": {
        "en": "Boundaries: vintage {vintage}.",
        "es": "Límites: versión {vintage}.",
    },
    "facts_input": {
        "en": "Input file {name}, SHA-256 {sha}.",
        "es": "Archivo de entrada {name}, SHA-256 {sha}.",
    },
    "facts_sample": {
        "en": "SAMPLE: these are synthetic incidents, not real events; do not publish them.",
        "es": "MUESTRA: son incidentes sintéticos, no hechos reales; no los publique.",
    },
    "facts_generalised": {
        "en": "The map's places are generalised ({setting}); the counts are not affected.",
        "es": "Los lugares del mapa están generalizados ({setting}); los conteos no cambian.",
    },
    "choro_none": {"en": "none", "es": "ninguno"},
    "choro_count_district": {"en": "Incidents per district", "es": "Incidentes por distrito"},
    "choro_area_department": {
        "en": "Incidents per 1,000 km², by department (zoom in for districts)",
        "es": "Incidentes por 1000 km², por departamento (acerque para ver distritos)",
    },
    "choro_area_district": {
        "en": "Incidents per 1,000 km², by district",
        "es": "Incidentes por 1000 km², por distrito",
    },
    "deaths": {"en": "Deaths", "es": "Muertes"},
    "coarse_view": {
        "en": "Large selection: compact markers; zoom in or filter for full details.",
        "es": "Selección grande: marcadores compactos; acerque o filtre para ver detalles.",
    },
    "map_aggregate_banner": {
        "en": "AGGREGATED: {n} incidents in and around this view are too many to draw one "
        "by one (more than {limit}), so the map counts them in hexagons about {km} km "
        "wide. Zoom in or filter to see each incident.",
        "es": "AGREGADO: {n} incidentes en esta vista y alrededor son demasiados para "
        "dibujarlos uno a uno (más de {limit}), así que el mapa los cuenta en hexágonos de "
        "unos {km} km. Acerque o filtre para ver cada incidente.",
    },
    "map_aggregate_asked": {
        "en": "HEXAGONS: the map counts the {n} incidents in and around this view in "
        "hexagons about {km} km wide, as the view asks (density: hexagons).",
        "es": "HEXÁGONOS: el mapa cuenta los {n} incidentes en esta vista y alrededor en "
        "hexágonos de unos {km} km, como pide la vista (densidad: hexágonos).",
    },
    "map_hex_count": {
        "en": "Incidents per hexagon (~{km}\u00a0km)",
        "es": "Incidentes por hexágono (~{km}\u00a0km)",
    },
    "map_incident": {"en": "incident", "es": "incidente"},
    "map_incidents": {"en": "incidents", "es": "incidentes"},
    "map_deaths_known": {"en": "fatalities (known)", "es": "víctimas mortales (conocidas)"},
    "legend": {"en": "Legend", "es": "Leyenda"},
    # ---- periods side by side (issue 16) -------------------------------------------------
    "compare_heading": {
        "en": "{start} – {end}: {incidents} incidents, {deaths} deaths",
        "es": "{start} – {end}: {incidents} incidentes, {deaths} muertes",
    },
    "compare_on": {"en": "Compare two periods", "es": "Comparar dos periodos"},
    "compare_help": {
        "en": "Two synced maps side by side, one per period; the other filters apply to both.",
        "es": "Dos mapas sincronizados lado a lado, uno por periodo; los demás filtros se "
        "aplican a ambos.",
    },
    "compare_first": {"en": "First period", "es": "Primer periodo"},
    "compare_second": {"en": "Second period", "es": "Segundo periodo"},
    "compare_note": {
        "en": "Left: first period; right: second. Panning or zooming one map moves the other. "
        "The symbols mean the same on both maps (one legend, on the right).",
        "es": "Izquierda: primer periodo; derecha: segundo. Al mover o acercar un mapa se "
        "mueve el otro. Los símbolos significan lo mismo en ambos mapas (una leyenda, a la "
        "derecha).",
    },
    "compare_counts": {
        "en": "{first}: {n1} incidents, {d1} deaths · {second}: {n2} incidents, {d2} deaths",
        "es": "{first}: {n1} incidentes, {d1} muertes · {second}: {n2} incidentes, {d2} muertes",
    },
    "multiples_panel": {
        "en": "{period}: {incidents} incidents, {deaths} deaths",
        "es": "{period}: {incidents} incidentes, {deaths} muertes",
    },
    "quarter_label": {"en": "Q{q} {year}", "es": "T{q} {year}"},
    "multiples_latest": {
        "en": "Showing the latest {shown} of {total} periods (at most {shown} fit this size).",
        "es": "Se muestran los últimos {shown} de {total} periodos (caben como máximo {shown} "
        "en este tamaño).",
    },
    "multiples_shared_scale": {
        "en": "One symbol scale for all panels.",
        "es": "Una sola escala de símbolos para todos los paneles.",
    },
    "regions_plural": {"en": "regions", "es": "regiones"},
    # ---- print page (layers.printmap) ----------------------------------------------------
    "print_source": {"en": "Source: {text}.", "es": "Fuente: {text}."},
    "print_note": {"en": "Note: {text}", "es": "Nota: {text}"},
    "print_byline": {"en": "Map: {text}", "es": "Mapa: {text}"},
    "print_sample_credit": {
        "en": "synthetic SAMPLE incidents",
        "es": "incidentes sintéticos de MUESTRA",
    },
    "print_acled": {"en": "ACLED (accessed {date})", "es": "ACLED (consultado el {date})"},
    "print_acled_undated": {
        "en": "ACLED (access date not recorded)",
        "es": "ACLED (fecha de consulta no registrada)",
    },
    "print_devida_zone": {"en": "DEVIDA (VRAEM zone)", "es": "DEVIDA (zona VRAEM)"},
    "print_press": {"en": "press reports", "es": "informes de prensa"},
    "print_hexagons_auto": {
        "en": "Too many events overlap to show one by one: each hexagon (~{km}\u00a0km) "
        "counts those of every type in it.",
        "es": "Los eventos se superponen demasiado para verlos uno a uno: cada hexágono "
        "(~{km}\u00a0km) cuenta los de todo tipo.",
    },
    "print_hexagons_asked": {
        "en": "Each hexagon (about {km}\u00a0km across) counts the events of every type in it.",
        "es": "Cada hexágono (de unos {km}\u00a0km) cuenta los eventos de todo tipo que contiene.",
    },
    "print_left_out": {
        "en": "{n} events outside the chosen dates, types or other filters are not shown.",
        "es": "No se muestran {n} eventos fuera de las fechas, tipos u otros filtros elegidos.",
    },
    "print_left_out_place": {
        "en": "{n} events located only to a department or the country are not shown.",
        "es": "No se muestran {n} eventos ubicados solo en un departamento o en el país.",
    },
    "print_killed": {"en": "People killed per event", "es": "Muertos por evento"},
    "print_coca_head": {
        "en": "Coca {year}, ha per department",
        "es": "Coca {year}, ha por departamento",
    },
    "print_coca_zone": {
        "en": "VRAEM zone: {ha} ha ({year}, {source})",
        "es": "Zona VRAEM: {ha} ha ({year}, {source})",
    },
    "print_no_data": {"en": "no data", "es": "sin datos"},
    "print_reference_label": {
        "en": "{place}, {date}: {n} killed",
        "es": "{place}, {date}: {n} muertos",
    },
    "print_peru": {"en": "PERU", "es": "PERÚ"},
    "print_dropped_dek": {
        "en": "the dek (no room for it at the minimum type size)",
        "es": "la bajada (no cabe con el tamaño mínimo de letra)",
    },
    "print_dropped_legend": {
        "en": "the legend moved onto the map",
        "es": "la leyenda pasó sobre el mapa",
    },
    "print_dropped_note": {
        "en": "the note shortened to its first sentence",
        "es": "la nota se acortó a su primera oración",
    },
    "print_dropped_note_all": {"en": "the note left out", "es": "la nota se omitió"},
    "print_dropped_inset": {"en": "the locator inset", "es": "el mapa de ubicación"},
    "sources_md_title": {"en": "Sources and method", "es": "Fuentes y método"},
    "sources_md_face": {"en": "On the image", "es": "En la imagen"},
    "sources_md_datasets": {"en": "Datasets", "es": "Conjuntos de datos"},
    "sources_md_method": {"en": "Filters and counts", "es": "Filtros y conteos"},
    "sources_md_hexagons_auto": {
        "en": "Drawing: hexagons about {km} km across instead of points (density: auto), "
        "because drawn as points {pct}% of the {n} markers in the frame would have their "
        "centre covered by another marker at this size (hexagons above {limit}%).",
        "es": "Dibujo: hexágonos de unos {km} km en lugar de puntos (densidad: automática), "
        "porque dibujados como puntos el {pct} % de los {n} símbolos del encuadre tendría "
        "su centro cubierto por otro símbolo en este tamaño (hexágonos por encima del "
        "{limit} %).",
    },
    "sources_md_hexagons": {
        "en": "Drawing: hexagons about {km} km across instead of points, as the view asks "
        "(density: hexagons); as points, {pct}% of the {n} markers in the frame would have "
        "their centre covered by another marker.",
        "es": "Dibujo: hexágonos de unos {km} km en lugar de puntos, como pide la vista "
        "(densidad: hexágonos); como puntos, el {pct} % de los {n} símbolos del encuadre "
        "tendría su centro cubierto por otro símbolo.",
    },
    "sources_md_points_only": {
        "en": "Drawing: one marker per event where events are drawn (small multiples and "
        "animations draw points whatever the density setting asks).",
        "es": "Dibujo: un símbolo por evento donde se dibujan eventos (los paneles múltiples "
        "y las animaciones dibujan puntos, pida lo que pida el ajuste de densidad).",
    },
    "sources_md_points": {
        "en": "Drawing: one marker per event; {pct}% of the {n} markers in the frame have "
        "their centre covered by another marker (density: auto draws hexagons above "
        "{limit}%).",
        "es": "Dibujo: un símbolo por evento; el {pct} % de los {n} símbolos del encuadre "
        "tiene su centro cubierto por otro símbolo (densidad automática: hexágonos por "
        "encima del {limit} %).",
    },
    "sources_md_caveats": {"en": "Caveats", "es": "Advertencias"},
    "sources_md_dropped": {
        "en": "Left off the page for lack of room",
        "es": "Omitido en la página por falta de espacio",
    },
    "sources_md_nothing_dropped": {"en": "nothing", "es": "nada"},
    "sources_md_view": {"en": "The view (MapSpec)", "es": "La vista (MapSpec)"},
    "sources_md_version": {"en": "version", "es": "versión"},
    "sources_md_accessed": {"en": "accessed", "es": "consultado"},
    "sources_md_licence": {"en": "licence", "es": "licencia"},
    "sources_md_address": {"en": "address", "es": "dirección"},
    # ---- safe locations (atlas.generalise) ------------------------------------------------
    "generalise": {"en": "Locations", "es": "Ubicaciones"},
    "generalise_none": {"en": "Exact (as in the data)", "es": "Exactas (como en los datos)"},
    "generalise_district": {"en": "Generalised to district", "es": "Generalizadas al distrito"},
    "generalise_grid": {
        "en": "Generalised to a {km} km grid",
        "es": "Generalizadas a cuadrícula de {km} km",
    },
    "generalise_help": {
        "en": "Before publishing, move every event to its district or grid cell: the map, "
        "the downloads and the exports then show no exact place, and names of places and "
        "notes are replaced. Counts per region do not change.",
        "es": "Antes de publicar, mueve cada evento a su distrito o celda: el mapa, las "
        "descargas y las exportaciones no muestran ningún lugar exacto, y los nombres de "
        "lugares y las notas se reemplazan. Los conteos por región no cambian.",
    },
    # ---- what changed (atlas.diff) ---------------------------------------------------------
    "layer_changes": {"en": "Changes between versions", "es": "Cambios entre versiones"},
    "changes_added": {
        "en": "Added in the new version ({n})",
        "es": "Añadidos en la versión nueva ({n})",
    },
    "changes_removed": {
        "en": "Removed from the new version ({n})",
        "es": "Eliminados en la versión nueva ({n})",
    },
    "changes_changed": {"en": "Revised ({n})", "es": "Revisados ({n})"},
    "changes_status_added": {"en": "added", "es": "añadido"},
    "changes_status_removed": {"en": "removed", "es": "eliminado"},
    "changes_status_changed": {"en": "revised", "es": "revisado"},
    "changes_status_unchanged": {"en": "unchanged", "es": "sin cambios"},
    "changes_fields": {"en": "Changed", "es": "Cambió"},
    "changes_fatalities": {"en": "Fatalities {old} → {new}", "es": "Muertes {old} → {new}"},
    "changes_km": {"en": "Moved {km} km", "es": "Movido {km} km"},
    "changes_days": {"en": "Date moved {days} days", "es": "Fecha movida {days} días"},
    "changes_title": {
        "en": "What changed: compare with a newer version",
        "es": "Qué cambió: comparar con una versión más nueva",
    },
    "changes_intro": {
        "en": "Upload a newer (or older) version of the loaded incident file. Events are "
        "matched by id over every row, then counted inside the current filters; the map "
        "shows added, removed and revised events.",
        "es": "Sube una versión más nueva (o anterior) del archivo de incidentes cargado. Los "
        "eventos se emparejan por id en todas las filas y luego se cuentan dentro de los "
        "filtros actuales; el mapa muestra los eventos añadidos, eliminados y revisados.",
    },
    "changes_file": {"en": "The other version", "es": "La otra versión"},
    "changes_counts": {
        "en": "{added} added, {removed} removed, {changed} revised, {unchanged} unchanged (whole files).",
        "es": "{added} añadidos, {removed} eliminados, {changed} revisados, {unchanged} sin cambios (archivos completos).",
    },
    "changes_hashes": {
        "en": "Loaded file sha256 {old}; other version sha256 {new}.",
        "es": "Archivo cargado sha256 {old}; otra versión sha256 {new}.",
    },
    "changes_download": {"en": "Changes (CSV)", "es": "Cambios (CSV)"},
    "changes_sources": {
        "en": "The other version was read as {new} and the loaded file as {old}: a diff "
        "compares two versions of the same source's file.",
        "es": "La otra versión se leyó como {new} y el archivo cargado como {old}: la "
        "comparación es entre dos versiones del archivo de la misma fuente.",
    },
    "changes_dates": {
        "en": "The other version has events from {start} to {end}; the date filter only "
        "reaches {lo} to {hi} (the loaded file's range), so a range ending on {hi} leaves out "
        "later additions. Choose All dates to count them.",
        "es": "La otra versión tiene eventos del {start} al {end}; el filtro de fechas solo "
        "llega del {lo} al {hi} (el rango del archivo cargado), así que un rango que termina "
        "el {hi} deja fuera las adiciones posteriores. Elige Todas las fechas para contarlas.",
    },
    "changes_clear": {"en": "Stop comparing", "es": "Dejar de comparar"},
    "diff_all": {"en": "All places", "es": "Todos los lugares"},
    "diff_line": {
        "en": "{region}, {period}: +{added} events, −{removed}, fatalities {old} → {new}",
        "es": "{region}, {period}: +{added} eventos, −{removed}, muertes {old} → {new}",
    },
    "diff_revised": {"en": "; {n} revised", "es": "; {n} revisados"},
    "gen_cell": {"en": "{km:g} km cell", "es": "celda de {km:g} km"},
    "gen_fatalities": {"en": "{n} killed", "es": "{n} muertos"},
    "gen_note_district": {
        "en": "Locations generalised to districts: each event is drawn at a point inside "
        "its district, not where it happened.",
        "es": "Ubicaciones generalizadas al distrito: cada evento se dibuja en un punto "
        "dentro de su distrito, no donde ocurrió.",
    },
    "gen_note_grid": {
        "en": "Locations generalised to a {km} km grid ({crs}): each event is drawn at its "
        "cell's centre, not where it happened.",
        "es": "Ubicaciones generalizadas a una cuadrícula de {km} km ({crs}): cada evento se "
        "dibuja en el centro de su celda, no donde ocurrió.",
    },
}


#: Peru's departments whose official (INEI) Spanish names carry accents that incident
#: files and the simplified boundaries often drop; the same spelling in en and es.
ACCENTED_PLACES: dict[str, str] = {
    "ancash": "Áncash",
    "apurimac": "Apurímac",
    "huanuco": "Huánuco",
    "junin": "Junín",
    "san martin": "San Martín",
    "la convencion": "La Convención",
    "rio ene": "Río Ene",
    "vizcatan del ene": "Vizcatán del Ene",
}


def place_name(name: str) -> str:
    """``name`` with its accents restored when it is one of :data:`ACCENTED_PLACES`
    ("Junin" -> "Junín"); any other name unchanged."""
    import unicodedata

    folded = (
        "".join(c for c in unicodedata.normalize("NFKD", str(name)) if not unicodedata.combining(c))
        .casefold()
        .strip()
    )
    return ACCENTED_PLACES.get(folded, name)


def t(key: str, lang: str, **fmt: Any) -> str:
    """The text ``key`` in ``lang`` ("en"/"es"), with ``{placeholders}`` filled."""
    if lang not in LANGS:
        raise InputError(f"language {lang!r}: choose from {', '.join(LANGS)}")
    try:
        text = STRINGS[key][lang]
    except KeyError:
        raise InputError(f"text {key!r}: no such key in atlas.i18n.STRINGS") from None
    return text.format(**fmt) if fmt else text


def fmt_int(n: float | int | None, lang: str) -> str:
    """Whole number with thousands separators: "1,047" in en and es-PE (CLDR)."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "–"
    if lang not in LANGS:
        raise InputError(f"language {lang!r}: choose from {', '.join(LANGS)}")
    return f"{round(n):,}"  # en and es-PE share "," grouping


def fmt_number(x: float | int | None, lang: str, decimals: int = 1) -> str:
    """Number with grouping and ``decimals`` places: "1,234.5" in en and es-PE (CLDR)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if lang not in LANGS:
        raise InputError(f"language {lang!r}: choose from {', '.join(LANGS)}")
    return f"{x:,.{decimals}f}"


def fmt_date(d: dt.date | None, lang: str, style: str = "short") -> str:
    """A date: short es "23/05/2021", en "2021-05-23"; long es "23 de mayo de 2021",
    en "23 May 2021"; month es "mayo 2021", en "May 2021"."""
    if d is None:
        return "–"
    if lang not in LANGS:
        raise InputError(f"language {lang!r}: choose from {', '.join(LANGS)}")
    if isinstance(d, dt.datetime):
        d = d.date()
    month = MONTHS[lang][d.month - 1]
    if style == "short":
        return d.strftime("%d/%m/%Y") if lang == "es" else d.isoformat()
    if style == "long":
        return f"{d.day} de {month} de {d.year}" if lang == "es" else f"{d.day} {month} {d.year}"
    if style == "month":
        return f"{month} {d.year}"
    raise InputError(f"date style {style!r}: choose short, long or month")


__all__ = ["LANGS", "MONTHS", "STRINGS", "fmt_date", "fmt_int", "fmt_number", "t"]
