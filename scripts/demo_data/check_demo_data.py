#!/usr/bin/env python3
"""Validate targets.csv / sites.csv of the DATAS demo dataset (stdlib only). Exit code 1 on failure."""
import csv, math, os, re, sys
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
errors = []


def err(msg):
    errors.append(msg)


def sep(ra1, de1, ra2, de2):
    r1, d1, r2, d2 = map(math.radians, (ra1, de1, ra2, de2))
    c = math.sin(d1) * math.sin(d2) + math.cos(d1) * math.cos(d2) * math.cos(r1 - r2)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


# ---------------- targets ----------------
TCOLS = ['name', 'ra_deg', 'dec_deg', 'target_type', 'magnitude', 'priority', 'cadence_hours',
         'classification', 'aliases', 'source']
with open(os.path.join(HERE, 'targets.csv'), encoding='utf-8', newline='') as fh:
    rd = csv.DictReader(fh)
    if rd.fieldnames != TCOLS:
        err('targets.csv header %r' % rd.fieldnames)
    T = list(rd)
names = [t['name'] for t in T]
if len(set(names)) != len(names):
    err('duplicate target names: %s' % sorted({n for n in names if names.count(n) > 1}))
if not 250 <= len(T) <= 400:
    err('target count %d not in 250..400' % len(T))
for t in T:
    try:
        ra, de, mag = float(t['ra_deg']), float(t['dec_deg']), float(t['magnitude'])
        pr, cad = int(t['priority']), float(t['cadence_hours'])
    except ValueError as e:
        err('%s: parse error %s' % (t['name'], e)); continue
    if not (0 <= ra < 360 and -90 <= de <= 90): err('%s: coordinates out of range' % t['name'])
    for c in ('ra_deg', 'dec_deg'):
        if len(t[c].split('.')[-1]) < 4: err('%s: %s has < 4 decimals' % (t['name'], c))
    if t['target_type'] not in ('variable_star', 'exoplanet_transit'): err('%s: bad target_type' % t['name'])
    if not 1 <= pr <= 10: err('%s: priority %d' % (t['name'], pr))
    if not cad > 0: err('%s: cadence %s' % (t['name'], cad))
    if t['target_type'] == 'variable_star' and not 1.5 <= mag <= 12.5: err('%s: mag %.2f' % (t['name'], mag))
    if t['target_type'] == 'exoplanet_transit':
        if not mag < 13: err('%s: host V %.2f >= 13' % (t['name'], mag))
        if t['classification'] != 'transiting_planet_host': err('%s: classification' % t['name'])
    if not t['name'] or not t['source'] or not t['classification']: err('%s: empty field' % t['name'])
    if ',' in t['aliases'] or t['name'] in t['aliases'].split(';'): err('%s: bad aliases' % t['name'])
    if any(ord(ch) > 127 for ch in t['name']): err('%s: non-ASCII name' % t['name'])
# positional duplicates
for i in range(len(T)):
    for j in range(i + 1, len(T)):
        if sep(float(T[i]['ra_deg']), float(T[i]['dec_deg']), float(T[j]['ra_deg']), float(T[j]['dec_deg'])) < 30 / 3600:
            err('positional duplicate %s / %s' % (T[i]['name'], T[j]['name']))
nvar = sum(t['target_type'] == 'variable_star' for t in T)
nexo = sum(t['target_type'] == 'exoplanet_transit' for t in T)
if not (150 <= nvar <= 250 and 80 <= nexo <= 130): err('type counts var=%d exo=%d' % (nvar, nexo))
for tt in ('variable_star', 'exoplanet_transit'):
    s = [float(t['dec_deg']) for t in T if t['target_type'] == tt]
    if min(sum(d >= 0 for d in s), sum(d < 0 for d in s)) < 0.25 * len(s): err('%s: hemisphere imbalance' % tt)

# independent reference positions (J2000, deg), tolerance 0.01 deg
REF = {
    'bet Per': (47.0422, 40.9556, 'Algol'), 'omi Cet': (34.8366, -2.9776, 'Mira'),
    'del Cep': (337.2929, 58.4152, 'delta Cep'), 'HD 209458': (330.7950, 18.8843, ''),
    'HD 189733': (300.1821, 22.7109, ''), 'bet Lyr': (282.5200, 33.3627, 'Sheliak'),
    'eta Aql': (298.1182, 1.0057, ''), 'RR Lyr': (291.3659, 42.7844, ''), 'chi Cyg': (297.6413, 32.9141, ''),
    'R Leo': (146.8896, 11.4287, ''), 'T CrB': (239.8757, 25.9202, ''), 'zet Gem': (106.0272, 20.5703, ''),
    'WASP-33': (36.7128, 37.5505, ''),
}
byname = {t['name']: t for t in T}
for n, (ra, de, _) in REF.items():
    t = byname.get(n)
    if t is None:
        err('reference star %s missing' % n); continue
    d = sep(ra, de, float(t['ra_deg']), float(t['dec_deg']))
    print('  xcheck %-10s sep %.5f deg %s' % (n, d, 'OK' if d < 0.01 else 'FAIL'))
    if d >= 0.01: err('%s off by %.4f deg' % (n, d))

# ---------------- sites ----------------
SCOLS = ['site_id', 'name', 'latitude', 'longitude', 'elevation_m', 'aperture_mm', 'filters', 'fov_arcmin',
         'limiting_mag', 'automation_level', 'altitude_limit_deg', 'timezone', 'country']
with open(os.path.join(HERE, 'sites.csv'), encoding='utf-8', newline='') as fh:
    rd = csv.DictReader(fh)
    if rd.fieldnames != SCOLS:
        err('sites.csv header %r' % rd.fieldnames)
    S = list(rd)
if len(S) < 16: err('only %d sites' % len(S))
if len({s['site_id'] for s in S}) != len(S): err('duplicate site_id')
continents = set()
for s in S:
    try:
        lat, lon, el = float(s['latitude']), float(s['longitude']), float(s['elevation_m'])
        ap, fov, lim, alt = int(s['aperture_mm']), float(s['fov_arcmin']), float(s['limiting_mag']), float(s['altitude_limit_deg'])
    except ValueError as e:
        err('%s: parse error %s' % (s['site_id'], e)); continue
    if not re.fullmatch(r'[a-z0-9]+(-[a-z0-9]+)*', s['site_id']): err('%s: bad slug' % s['site_id'])
    if not (-90 <= lat <= 90 and -180 < lon <= 180 and -100 < el < 5000): err('%s: coords' % s['site_id'])
    if not (150 <= ap <= 1000 and 10 <= fov <= 90 and 14 <= lim <= 20 and 15 <= alt <= 30): err('%s: kit' % s['site_id'])
    if s['automation_level'] not in ('manual', 'assisted', 'robotic'): err('%s: automation' % s['site_id'])
    if not re.fullmatch(r'[A-Za-z]{1,2}(;[A-Za-z]{1,2})*', s['filters']): err('%s: filters' % s['site_id'])
    # crude sanity: limiting magnitude should grow with aperture
    if abs(lim - (13.9 + 5 * math.log10(ap / 100))) > 1.0: err('%s: limiting mag vs aperture' % s['site_id'])
    try:
        ZoneInfo(s['timezone'])
    except Exception:
        err('%s: bad timezone %s' % (s['site_id'], s['timezone']))
    area = s['timezone'].split('/')[0]
    continents.add({'Australia': 'Oceania', 'Pacific': 'Oceania', 'Africa': 'Africa', 'Asia': 'Asia',
                    'Europe': 'Europe', 'Atlantic': 'Europe'}.get(area, ('South America' if lat < 12 else 'North America')
                                                              if area == 'America' else area))
if len(continents) < 5: err('continents %s' % continents)
if not (any(float(s['latitude']) < 0 for s in S) and any(float(s['latitude']) > 0 for s in S)): err('hemispheres')
print('  site continents:', sorted(continents))
SITE_REF = {'ssp-aus': (-31.273, 149.061), 'lsl-chl': (-29.257, -70.730), 'kpno-usa': (31.958, -111.598),
            'mcd-usa': (30.672, -104.022), 'lpa-esp': (28.761, -17.878), 'saao-zaf': (-32.379, 20.812),
            'ctio-chl': (-30.166, -70.815)}
bysid = {s['site_id']: s for s in S}
for sid, (la, lo) in SITE_REF.items():
    s = bysid.get(sid)
    if s is None: err('site %s missing' % sid); continue
    d = max(abs(float(s['latitude']) - la), abs(float(s['longitude']) - lo))
    print('  xcheck site %-9s max |dlat|,|dlon| %.4f deg %s' % (sid, d, 'OK' if d < 0.01 else 'FAIL'))
    if d >= 0.01: err('site %s off by %.4f' % (sid, d))

print('targets: %d (variable_star %d, exoplanet_transit %d); sites: %d' % (len(T), nvar, nexo, len(S)))
if errors:
    print('FAILED:\n  ' + '\n  '.join(errors)); sys.exit(1)
print('ALL CHECKS PASSED')
