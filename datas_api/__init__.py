"""HTTP shell: wires datas_core to FastAPI."""
