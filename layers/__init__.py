"""Drawing side: each layer draws itself to folium (interactive) and matplotlib (print)."""
