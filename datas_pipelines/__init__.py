"""Dagster shell: assets, sensors and schedules over datas_core."""
