"""The commented site.yaml that `datas-agent init` writes."""

from __future__ import annotations

TEMPLATE = """\
# DATAS site agent configuration. Every key is explained in docs/AGENT.md.
# Check it with:  datas-agent check -c {filename}

site_id: {site_id}                 # as registered on the server (datas sites list)

server:
  url: {server}                    # the DATAS server
  key: {key}                       # this site's key; keep this file private
  timeout_seconds: 15              # every call to the server gives up after this

driver: {driver}                   # simulator | alpaca | indi
{device_line}
mode: network                      # network (server's list) | sequential | repeat
state_dir: datas-agent-state       # outbox, cached target list, logs (relative to this file)
poll_seconds: 60                   # how often the target list is refreshed
heartbeat_seconds: 60              # how often weather and device states are reported
target_cache_hours: 12             # a cached list is used this long while the server is away
control_port: 8765                 # status/pause/resume/stop listen on 127.0.0.1 only

safety:                            # unsafe (or stale, or unknown) means park and wait
  sun_max_altitude_deg: -12        # observe only with the Sun below this
  max_wind_ms: 12
  max_humidity_pct: 90
  max_cloud_pct: 70
  stale_seconds: 180               # weather older than this counts as unsafe
  holdoff_seconds: 900             # stay parked this long after conditions turn safe again
  min_free_disk_mb: 1024

outbox:
  max_mb: 500                      # unsent observations and frames kept at most
  upload_frames: false             # also upload FITS frames (POST /api/v1/frames)
  keep_frames: true                # false: delete a frame's local file once it is uploaded
  max_tries: 8                     # then a record the server keeps failing is set aside (dead)

simulator:                         # used with driver: simulator
  time_factor: 1.0                 # 0.01 makes a 60 s exposure take 0.6 s
  cloud_pct: 10
  wind_ms: 3

focuser:
  enabled: false                   # true: report it in heartbeats and check its limits
dome:                              # a dome or roll-off roof
  enabled: false                   # true: opened before observing, closed when parking
  timeout_seconds: 180             # an open or close taking longer is an error

limits: {{}}                         # e.g. {{mount: {{altitude_deg: {{min: 10}}}}}}; outside: park

alarms: []                         # e.g. - {{when: "wind_ms > 15", action: park}}

failed_target_retry_minutes: 30    # after a device error the next target is tried first
error_holdoff_seconds: 300         # after an unexpected failure: park, retry after this long

photometry:                        # local photometry of every frame, uploaded with it
  enabled: true
  # catalog: stars.csv             # id,ra_deg,dec_deg,V,R...; or tycho2-index, gaia-dr3, none
  #                                 (default: synthetic with the simulator, else none = flux only)

plans: []                          # your own plans, for mode sequential/repeat (docs/AGENT.md)
# plans:
#   - name: calibration
#     sequence:
#       - {{kind: dark, exposure_sec: 30, count: 10}}
"""


def render(
    site_id: str, server: str, key: str, driver: str, device_url: str | None, filename: str
) -> str:
    device_line = (
        f"device_url: {device_url}       # where the devices answer"
        if device_url
        else "# device_url: alpaca://127.0.0.1:11111   # needed for alpaca and indi"
    )
    return TEMPLATE.format(
        site_id=site_id,
        server=server,
        key=key,
        driver=driver,
        device_line=device_line,
        filename=filename,
    )
