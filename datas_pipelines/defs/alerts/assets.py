"""Alert feeds (ZTF through Fink/ALeRCE, GCN over Kafka, TNS, brokers pushing to the API): the
outside source of `raw_alerts`. An external asset, so the graph reads feeds -> alerts -> targets.

When the feed sensors arrive (sensors.py), each feed may become its own AssetSpec here (for
example `ztf_feed`, `gcn_feed`), with `raw_alerts` depending on all of them.
"""

from dagster import AssetSpec

alert_feeds = AssetSpec(
    "alert_feeds",
    group_name="targets",
    description="External alert streams. Today brokers push alerts to POST /api/v1/alerts; "
    "Dagster feed sensors (defs/alerts/sensors.py, one per feed, with a cursor and run_keys) "
    "will poll ZTF/Fink/ALeRCE, GCN Kafka and TNS and append to raw_alerts.",
    kinds={"kafka", "api"},
)
