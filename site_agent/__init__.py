"""The telescope-side agent. Imports only datas_core.schemas, .sky and .science."""
