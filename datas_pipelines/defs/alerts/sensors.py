"""The place for alert-feed sensors (a later issue builds them; definitions.py already loads
FEED_SENSORS).

The contract each feed sensor keeps (DESIGN.md section 7):
- one sensor per feed (ztf, gcn, tns, ...), its position in the feed in the sensor cursor
  (Kafka offsets committed only after the database transaction);
- raw payloads appended to `raw_alerts` with the feed's natural key (ZTF candid, VOEvent ivorn,
  GCN topic+id+record, TNS objname+lastmodified), so a replay is a no-op; retractions change
  state, never delete;
- normalization and cross-match in datas_core (alerts/, services/alerts.py), never here;
- runs, if any, requested with a `run_key` per batch of alerts.
"""

from dagster import SensorDefinition

FEED_SENSORS: list[SensorDefinition] = []
