"""Network scheduling: score every (target, site) pair with named terms, then assign.

Pure functions over numpy arrays; the database and Dagster stay outside (services/rankings.py and
datas_pipelines feed them and store the result).
"""
