"""`python -m site_agent` is `datas-agent` (handy where scripts are not on PATH)."""

from site_agent.cli import main

main()
