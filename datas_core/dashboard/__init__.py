"""Read-only queries behind the web dashboard (datas_api/dashboard).

Every function takes a Session and returns plain dicts/lists ready for a template. Each page is
a fixed number of queries with LIMITs and SQL aggregates (portable between SQLite and
PostgreSQL): nothing here loops over rows issuing queries.
"""
