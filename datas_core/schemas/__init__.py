"""Pydantic wire contracts shared by the API, pipelines and the site agent."""
