-- Dagster keeps its own storage apart from the app database.
CREATE DATABASE dagster OWNER datas;
