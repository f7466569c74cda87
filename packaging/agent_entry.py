"""Entry point of the single-file `datas-agent` executable (packaging/datas-agent.spec).

The same command as `datas-agent` / `python -m site_agent`; frozen, astropy is also told never to
download anything (its IERS and leap-second tables are bundled) so the executable works offline.
"""

from __future__ import annotations

import multiprocessing


def _main() -> None:
    from datas_core.sky.astropy_offline import configure_astropy_offline
    from site_agent.cli import main

    configure_astropy_offline()
    main(prog_name="datas-agent")


if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless on Linux; needed by frozen Windows executables
    _main()
