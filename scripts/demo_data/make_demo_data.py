#!/usr/bin/env python3
"""Regenerate the DATAS demo dataset (targets.csv, sites.csv) from packaged catalogues.

Every coordinate comes from a file shipped in a Debian or PyPI package; nothing is typed in by hand.

Inputs (see SOURCES.md for the exact versions and how to fetch/extract them):
  --stellarium-data  <root>/usr/share/stellarium  of the extracted Debian package stellarium-data 0.22.2-1
      stars/default/gcvs_hip_part.dat   GCVS variability data keyed by HIP number
      stars/default/stars_[012]_0v0_8.cat  Hipparcos stars (J2000 positions, binary "Star1" records)
      stars/default/cross-id.dat        HIP -> SAO / HD / HR cross identifications
      skycultures/western/star_names.fab  proper names keyed by HIP
  --stellarium-bin   <root>/usr/bin/stellarium  of the extracted Debian package stellarium 0.22.2-1
      the Exoplanets plugin catalogue (exoplanets.json, data from exoplanet.eu) is compiled into the
      binary as a zlib-compressed Qt resource; it is located and decompressed below.
  palpy 1.8.4 (PyPI)  palpy.obs(): observatory table of the Starlink PAL library (palObs, from SLALIB)
  timezonefinder 9.x (PyPI) IANA time zone for each site from its coordinates
  /usr/share/zoneinfo/zone.tab + iso3166.tab (Debian tzdata)  zone -> country

Usage:
  python make_demo_data.py --stellarium-data DIR --stellarium-bin FILE --out DIR
Requires: numpy, palpy, timezonefinder.
"""
import argparse, csv, json, math, os, re, struct, sys, zlib
import numpy as np

# ----------------------------------------------------------------------------------------------
# 1. Stellarium 0.22 star catalogue decoder (geometry re-implemented from Stellarium's
#    StelGeodesicGrid.cpp and ZoneArray.cpp, GPL-2.0+, J. Gajdosik)
# ----------------------------------------------------------------------------------------------
_G = 0.5 * (1.0 + math.sqrt(5.0)); _B = 1.0 / math.sqrt(1.0 + _G * _G); _A = _B * _G
ICO_CORNERS = np.array([[_A, -_B, 0], [_A, _B, 0], [-_A, _B, 0], [-_A, -_B, 0], [0, _A, -_B], [0, _A, _B],
                        [0, -_A, _B], [0, -_A, -_B], [-_B, 0, _A], [_B, 0, _A], [_B, 0, -_A], [-_B, 0, -_A]])
ICO_TRIS = [(1, 0, 10), (0, 1, 9), (0, 9, 6), (9, 8, 6), (0, 7, 10), (6, 7, 0), (7, 6, 3), (6, 8, 3), (11, 10, 7),
            (7, 3, 11), (3, 2, 11), (2, 3, 8), (10, 11, 4), (2, 4, 11), (5, 4, 2), (2, 8, 5), (4, 1, 10),
            (4, 5, 1), (5, 9, 1), (8, 9, 5)]


def _unit(v):
    return v / np.linalg.norm(v)


def _zone_triangles(level):
    out = [None] * (20 * 4 ** level)

    def rec(lev, idx, c0, c1, c2):
        if lev == level:
            out[idx] = (c0, c1, c2)
            return
        e0, e1, e2 = _unit(c1 + c2), _unit(c2 + c0), _unit(c0 + c1)
        idx *= 4
        rec(lev + 1, idx + 0, c0, e2, e1)
        rec(lev + 1, idx + 1, e2, c1, e0)
        rec(lev + 1, idx + 2, e1, e0, c2)
        rec(lev + 1, idx + 3, e0, e1, e2)

    for i, t in enumerate(ICO_TRIS):
        rec(0, i, *(ICO_CORNERS[k] for k in t))
    return out


def read_hip_catalog(path):
    """Return {hip: (ra_deg, dec_deg, vmag)} from a Stellarium type-0 (Star1) catalogue, J2000 positions."""
    data = open(path, 'rb').read()
    magic, typ, major, minor, level, mag_min, mag_range, mag_steps = struct.unpack_from('<5Ii2I', data, 0)
    if magic != 0x835F040A or typ != 0:
        raise ValueError('%s: not a little-endian Star1 catalogue' % path)
    nz = 20 * 4 ** level
    sizes = struct.unpack_from('<%dI' % nz, data, 32)
    north = np.array([0.0, 0.0, 1.0])
    zones, scale = [], 0.0
    for c0, c1, c2 in _zone_triangles(level):
        c = _unit(c0 + c1 + c2); a0 = _unit(np.cross(north, c)); a1 = np.cross(c, a0)
        for v in (c0, c1, c2):
            mu0, mu1 = (v - c) @ a0, (v - c) @ a1
            f = 1.0 / math.sqrt(1.0 - mu0 * mu0 - mu1 * mu1)
            scale = max(scale, abs(mu0) * f, abs(mu1) * f)
        zones.append((c, a0, a1))
    scale /= 0x7FFFFFFF
    rec = np.dtype([('w0', '<u4'), ('x0', '<i4'), ('x1', '<i4'), ('bV', 'u1'), ('mag', 'u1'),
                    ('sp', '<u2'), ('dx0', '<i4'), ('dx1', '<i4'), ('plx', '<i4')])
    arr = np.frombuffer(data, dtype=rec, count=sum(sizes), offset=32 + 4 * nz)
    zidx = np.repeat(np.arange(nz), sizes)
    C = np.array([z[0] for z in zones])[zidx]; A0 = np.array([z[1] for z in zones])[zidx]
    A1 = np.array([z[2] for z in zones])[zidx]
    p = C + A0 * (scale * arr['x0'].astype(float))[:, None] + A1 * (scale * arr['x1'].astype(float))[:, None]
    p /= np.linalg.norm(p, axis=1)[:, None]
    ra = np.degrees(np.arctan2(p[:, 1], p[:, 0])) % 360.0
    dec = np.degrees(np.arcsin(np.clip(p[:, 2], -1, 1)))
    mag = (mag_min + arr['mag'].astype(float) * mag_range / mag_steps) / 1000.0
    hip = (arr['w0'] & 0xFFFFFF).astype(int); comp = (arr['w0'] >> 24).astype(int)
    out = {}
    for h, cmp_, r, d, m in zip(hip, comp, ra, dec, mag):
        # several records can share a HIP number (components A, B, ...): keep the lowest component id
        if h and (h not in out or cmp_ < out[h][3]):
            out[int(h)] = (float(r), float(d), float(m), int(cmp_))
    return {h: v[:3] for h, v in out.items()}


# ----------------------------------------------------------------------------------------------
# 2. helpers
# ----------------------------------------------------------------------------------------------
GREEK = {'α': 'alp', 'β': 'bet', 'γ': 'gam', 'δ': 'del', 'ε': 'eps', 'ζ': 'zet', 'η': 'eta', 'θ': 'the',
         'ι': 'iot', 'κ': 'kap', 'λ': 'lam', 'μ': 'mu', 'ν': 'nu', 'ξ': 'xi', 'ο': 'omi', 'π': 'pi',
         'ρ': 'rho', 'σ': 'sig', 'τ': 'tau', 'υ': 'ups', 'φ': 'phi', 'χ': 'chi', 'ψ': 'psi', 'ω': 'ome',
         'ϑ': 'the', 'ϕ': 'phi'}


def ascii_name(s):
    s = ''.join(GREEK.get(ch, ch) for ch in s.strip())
    s = s.replace(',', ' ').replace(';', ' ')
    return re.sub(r'\s+', ' ', s)


def sep_deg(ra1, de1, ra2, de2):
    r1, d1, r2, d2 = map(math.radians, (ra1, de1, ra2, de2))
    c = math.sin(d1) * math.sin(d2) + math.cos(d1) * math.cos(d2) * math.cos(r1 - r2)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def parse_hms(s):
    m = re.fullmatch(r'\s*(\d+)h(\d+)m([\d.]+)s\s*', s)
    return 15.0 * (int(m.group(1)) + int(m.group(2)) / 60.0 + float(m.group(3)) / 3600.0)


def parse_dms(s):
    m = re.fullmatch(r'\s*([+-]?)(\d+)d(\d+)m([\d.]+)s\s*', s)
    v = int(m.group(2)) + int(m.group(3)) / 60.0 + float(m.group(4)) / 3600.0
    return -v if m.group(1) == '-' else v


def load_cross_ids(path):
    hip2 = {}; hd2hip = {}; hr2hip = {}
    for line in open(path, encoding='utf-8'):
        if line.startswith('#') or not line.strip():
            continue
        f = line.rstrip('\n').split('\t')
        f += [''] * (5 - len(f))
        hip = int(f[0]); sao, hd, hr = f[2].strip(), f[3].strip(), f[4].strip()
        hip2.setdefault(hip, (sao, hd, hr))   # first row = component A when a HIP is split
        if hd: hd2hip.setdefault(int(hd), hip)
        if hr: hr2hip.setdefault(int(hr), hip)
    return hip2, hd2hip, hr2hip


def load_proper_names(path):
    names = {}
    for line in open(path, encoding='utf-8'):
        m = re.match(r'\s*(\d+)\|_\("([^"]+)"\)', line)
        if m and int(m.group(1)) not in names:
            names[int(m.group(1))] = m.group(2)
    return names


def extract_exoplanets_json(binary_path):
    """Find the zlib-compressed Qt resource holding exoplanets.json inside the stellarium binary."""
    b = open(binary_path, 'rb').read()
    for m in re.finditer(rb'\x78[\x01\x5e\x9c\xda]', b):
        try:
            out = zlib.decompressobj().decompress(b[m.start():m.start() + 8_000_000])
        except zlib.error:
            continue
        if out.startswith(b'{') and b'A catalogue of stars with exoplanets' in out[:200]:
            return json.loads(out.decode('utf-8')), m.start()
    raise RuntimeError('exoplanets.json resource not found in ' + binary_path)


# ----------------------------------------------------------------------------------------------
# 3. variable stars (GCVS x Hipparcos)
# ----------------------------------------------------------------------------------------------
VAR_GROUPS = [  # group, predicate on primary GCVS type, quota, min amplitude, max(brightest) mag limit
    ('mira',    lambda t: t == 'M',                                   45, 2.5, 9.5),
    ('sr',      lambda t: t in ('SR', 'SRA', 'SRB', 'SRC', 'SRD', 'SRS'), 24, 0.5, 9.0),
    ('ea',      lambda t: t == 'EA',                                  34, 0.3, 10.0),
    ('eb',      lambda t: t == 'EB',                                  12, 0.3, 10.0),
    ('ew',      lambda t: t == 'EW',                                  13, 0.3, 10.5),
    ('cepheid', lambda t: t in ('DCEP', 'DCEPS', 'CEP', 'CW', 'CWA', 'CWB'), 25, 0.3, 10.0),
    ('rr',      lambda t: t in ('RRAB', 'RRC', 'RR'),                 16, 0.3, 11.0),
    ('dsct',    lambda t: t in ('DSCT', 'SXPHE'),                     15, 0.1, 10.5),
    ('rv',      lambda t: t in ('RV', 'RVA', 'RVB'),                   5, 0.5, 10.0),
    ('rcb',     lambda t: t == 'RCB',                                  3, 1.0, 10.5),
    ('other',   lambda t: t in ('ZAND', 'NR', 'UGSS', 'UGZ', 'GCAS', 'BCEP', 'SDOR', 'INSA'), 8, 0.15, 9.0),
]
# Classic stars that must be in the demo (they are used for validation); matched on GCVS designation.
SEED_VARIABLES = ['β Per', 'ο Cet', 'δ Cep', 'β Lyr', 'η Aql', 'RR Lyr', 'χ Cyg', 'R Leo', 'R CrB', 'W UMa',
                  'l Car', 'ζ Gem', 'R Hya', 'R Car', 'ε Aur', 'λ Tau', 'RS Pup', 'U Cep', 'SX Phe', 'δ Sct',
                  'μ Cep', 'R Sct', 'ρ Cas', 'T CrB', 'R Aqr', 'U Sge', 'X Sgr', 'W Vir', 'β Cep', 'Z UMa']
BASE_PRIORITY = {'mira': 5, 'sr': 4, 'ea': 6, 'eb': 6, 'ew': 6, 'cepheid': 6, 'rr': 7, 'dsct': 7, 'rv': 5,
                 'rcb': 8, 'other': 6}


def primary_type(t):
    return re.split(r'[/+(:| ]', t.strip())[0]


def var_cadence(group, period):
    if group == 'mira':
        return 72.0 if (period and period < 200) else (120.0 if (period and period < 350) else 168.0)
    if group == 'sr':
        return 72.0 if (period and period < 100) else 96.0
    if group in ('ea', 'eb', 'ew'):
        return 24.0
    if group == 'cepheid':
        return 12.0 if (period and period < 3) else (24.0 if (period and period < 15) else 48.0)
    if group in ('rr', 'dsct'):
        return 12.0
    if group == 'rv':
        return 72.0
    return 48.0


def select_variables(sd, hipcat, cross, names, exclude_hips, log):
    rows = []
    for line in open(os.path.join(sd, 'stars/default/gcvs_hip_part.dat'), encoding='utf-8'):
        f = line.rstrip('\n').split('\t')
        if len(f) < 12 or not f[0].strip().isdigit():
            continue
        hip = int(f[0]); desig = f[1].strip(); vtype = f[2].strip()
        try:
            mmax = float(f[3]); flag = int(f[4] or 0); mmin = float(f[5]) if f[5].strip() else None
        except ValueError:
            continue
        system = f[7].strip(); period = float(f[9]) if f[9].strip() else None
        if mmin is None or system not in ('V', 'Hp') or hip not in hipcat:
            continue
        amp = mmin if flag == 1 else mmin - mmax
        rows.append(dict(hip=hip, desig=desig, vtype=vtype, ptype=primary_type(vtype), mmax=mmax, amp=amp,
                         period=period, system=system, uncertain=':' in vtype))
    log.append('GCVS rows with HIP position and V/Hp photometry: %d' % len(rows))
    by_desig = {r['desig']: r for r in rows}

    def group_of(r):
        for g, pred, quota, amin, maglim in VAR_GROUPS:
            if pred(r['ptype']):
                return g
        return None

    chosen, chosen_hips = [], set()

    def add(r, g):
        ra, de, _ = hipcat[r['hip']]
        if r['hip'] in chosen_hips or r['hip'] in exclude_hips:
            return False
        chosen.append(dict(r, group=g, ra=ra, dec=de)); chosen_hips.add(r['hip'])
        return True

    for d in SEED_VARIABLES:
        r = by_desig.get(d)
        if r is None:
            log.append('seed %s not found in GCVS-HIP list' % d); continue
        add(r, group_of(r) or 'other')
    for g, pred, quota, amin, maglim in VAR_GROUPS:
        have = sum(1 for c in chosen if c['group'] == g)
        cands = [r for r in rows if pred(r['ptype']) and not r['uncertain'] and r['amp'] >= amin
                 and 2.0 <= r['mmax'] <= maglim and r['hip'] not in chosen_hips]
        # prefer bright, large amplitude, known period, and stars with Bayer/Flamsteed or proper names
        def score(r):
            s = -r['mmax'] + 1.5 * min(r['amp'], 3.0) / (3.0 if g == 'mira' else 1.0)
            s += 0.5 if r['period'] else -1.0
            s += 0.7 if r['hip'] in names else 0.0
            return s
        cands.sort(key=score, reverse=True)
        north = [r for r in cands if hipcat[r['hip']][1] >= 0]
        south = [r for r in cands if hipcat[r['hip']][1] < 0]
        queues = [north, south]; turn = 0 if sum(1 for c in chosen if c['dec'] < 0) >= sum(
            1 for c in chosen if c['dec'] >= 0) else 1
        min_sep = 4.0
        while have < quota and (north or south):
            q = queues[turn] if queues[turn] else queues[1 - turn]
            r = q.pop(0)
            ra, de, _ = hipcat[r['hip']]
            if any(sep_deg(ra, de, c['ra'], c['dec']) < min_sep for c in chosen if c['group'] == g):
                continue
            if add(r, g):
                have += 1; turn = 1 - turn
        log.append('variables group %-8s selected %3d (candidates %d)' % (g, have, len(cands)))
    out = []
    for c in chosen:
        sao, hd, hr = cross.get(c['hip'], ('', '', ''))
        aliases = []
        if c['hip'] in names: aliases.append(names[c['hip']])
        if hd: aliases.append('HD ' + hd)
        aliases.append('HIP %d' % c['hip'])
        if hr: aliases.append('HR ' + hr)
        if sao: aliases.append('SAO ' + sao)
        pr = BASE_PRIORITY[c['group']] + (1 if c['hip'] in names else 0) + (1 if c['mmax'] <= 6.0 else 0)
        cls = 'Mira' if c['ptype'] == 'M' else c['vtype']
        out.append(dict(name=ascii_name(c['desig']), ra_deg=c['ra'], dec_deg=c['dec'], target_type='variable_star',
                        magnitude=c['mmax'], priority=min(10, pr), cadence_hours=var_cadence(c['group'], c['period']),
                        classification=cls, aliases=';'.join(aliases),
                        source='stellarium-data 0.22.2 gcvs_hip_part.dat + Hipparcos stars_[012]_0v0_8.cat',
                        _hip=c['hip']))
    return out


# ----------------------------------------------------------------------------------------------
# 4. transiting-exoplanet hosts (Stellarium Exoplanets plugin catalogue, from exoplanet.eu)
# ----------------------------------------------------------------------------------------------
# alternative names copied from exoplanets.json: only common catalogue/survey designations with clean
# characters (the json also carries SAO numbers that do not always agree with Stellarium's cross-id table,
# and some truncated 2MASS strings).
ALIAS_OK = re.compile(r"(HD|HR|HIP|GJ|BD|CD|CPD|TYC|TOI|TIC|WASP|HAT-P|HATS|KELT|XO|TrES|Qatar|MASCARA|NGTS|"
                      r"CoRoT)[ -]?[0-9][0-9A-Za-z +.-]*")
EXO_GROUPS = [  # regex on host name, quota (brightest first)
    (r'WASP-\d+', 40), (r'HAT-P-\d+', 22), (r'KELT-\d+', 8), (r'HATS-\d+', 6), (r'XO-\d+', 5),
    (r'TrES-\d+', 4), (r'Qatar-\d+', 5), (r'(CoRoT|MASCARA|NGTS)-\d+', 4),
    (r'(HD|GJ|HIP|HR|BD[+-]) ?[\d+ -]+[A-Za-z]?|π Men|55 Cnc|AU Mic', 14),
]


def select_exoplanet_hosts(exo, hipcat, cross, hd2hip, hr2hip, log):
    cands = []
    for name, v in exo['stars'].items():
        if not any(p.get('detectionMethod') == 'Primary Transit' for p in v['exoplanets']):
            continue
        if v.get('Vmag') is None or not (v['Vmag'] < 13.0):
            continue
        cands.append((name, v))
    log.append('exoplanets.json: %d hosts, %d transit hosts with V<13' % (len(exo['stars']), len(cands)))
    picked = []
    seen = set()
    for pat, quota in EXO_GROUPS:
        grp = sorted([c for c in cands if re.fullmatch(pat, c[0]) and c[0] not in seen],
                     key=lambda c: (c[1]['Vmag'], c[0]))
        for name, v in grp[:quota]:
            picked.append((name, v)); seen.add(name)
        log.append('exo group %-40s %d' % (pat, min(quota, len(grp))))
    out, seps = [], []
    for name, v in picked:
        ra, de = parse_hms(v['RA']), parse_dms(v['DE'])
        alt = [a.strip() for a in (v.get('starAltNames') or '').split(',') if a.strip()]
        hip = None
        for n in [name] + alt:
            m = re.fullmatch(r'HD ?(\d+)( A)?', n); m2 = re.fullmatch(r'HIP ?(\d+)( A)?', n)
            m3 = re.fullmatch(r'HR ?(\d+)', n)
            if m and int(m.group(1)) in hd2hip: hip = hd2hip[int(m.group(1))]
            elif m2: hip = int(m2.group(1))
            elif m3 and int(m3.group(1)) in hr2hip: hip = hr2hip[int(m3.group(1))]
            if hip: break
        src = 'stellarium 0.22.2 Exoplanets plugin exoplanets.json (exoplanet.eu)'
        if hip and hip in hipcat:
            s = sep_deg(ra, de, hipcat[hip][0], hipcat[hip][1]) * 3600
            seps.append(s)
            if s > 5:
                log.append('note %s: exoplanets.json position differs by %.1f" from HIP %d (epoch/proper motion)' % (name, s, hip))
            if s < 60:
                ra, de = hipcat[hip][0], hipcat[hip][1]
                src += ' + Hipparcos position stellarium-data 0.22.2'
            else:
                log.append('WARN %s: HIP %d is %.0f" from exoplanets.json position, kept json' % (name, hip, s))
                hip = None
        else:
            hip = None
        aliases = []
        if v.get('starProperName'): aliases.append(v['starProperName'])
        aliases += [ascii_name(a) for a in alt if ascii_name(a) != ascii_name(name) and ALIAS_OK.fullmatch(a)]
        if hip:
            sao, hd, hr = cross.get(hip, ('', '', ''))
            for a in (('HD ' + hd) if hd else '', 'HIP %d' % hip, ('SAO ' + sao) if sao else ''):
                if a and a not in aliases and a != ascii_name(name): aliases.append(a)
        aliases = list(dict.fromkeys(aliases))[:8]
        vmag = float(v['Vmag'])
        if hip and abs(hipcat[hip][2] - vmag) > 0.5:   # e.g. MASCARA-2 is listed with V=3.0 in exoplanets.json
            log.append('WARN %s: exoplanets.json Vmag %.2f replaced by Hipparcos V %.2f' % (name, vmag, hipcat[hip][2]))
            vmag = hipcat[hip][2]
        short = any((p.get('period') or 99) < 3.0 for p in v['exoplanets'])
        pr = (8 if vmag < 9 else 7 if vmag < 11 else 6) + (1 if short else 0)
        out.append(dict(name=ascii_name(name), ra_deg=ra, dec_deg=de, target_type='exoplanet_transit',
                        magnitude=vmag, priority=min(10, pr), cadence_hours=48.0,
                        classification='transiting_planet_host', aliases=';'.join(aliases), source=src,
                        _hip=hip))
    if seps:
        log.append('exoplanets.json vs Hipparcos positions: n=%d median %.2f" max %.2f"' % (
            len(seps), float(np.median(seps)), max(seps)))
    return out


# ----------------------------------------------------------------------------------------------
# 5. sites: PAL observatory table (palpy) with illustrative small-telescope demo equipment
# ----------------------------------------------------------------------------------------------
# site_id, PAL key, display name, aperture mm, focal ratio, sensor width mm, filters, automation, alt limit
SITES = [
    ('ssp-aus',  'ANU2.3',     'Siding Spring Observatory',          500, 6.8, 36.0, 'B;V;R;I',    'robotic',  25),
    ('mso-aus',  'STROMLO74',  'Mount Stromlo Observatory',          355, 7.0, 23.0, 'B;V;R',      'assisted', 25),
    ('ctio-chl', 'TOLOLO1.5M', 'Cerro Tololo Inter-American Obs.',   610, 6.5, 36.0, 'g;r;i',      'robotic',  20),
    ('lsl-chl',  'ESOSCHM',    'La Silla Observatory',               400, 3.8, 36.0, 'B;V;R;I',    'robotic',  20),
    ('lco-chl',  'DUPONT',     'Las Campanas Observatory',           1000, 8.0, 36.0, 'g;r;i;z',   'robotic',  25),
    ('cba-arg',  'BOSQALEGRE', 'Estacion Astrofisica Bosque Alegre', 254, 10.0, 23.0, 'CV;V;R',    'assisted', 25),
    ('saao-zaf', 'SAAO74',     'SAAO Sutherland',                    700, 6.5, 36.0, 'B;V;R;I',    'robotic',  25),
    ('bfn-zaf',  'BLOEMF',     'Boyden Observatory',                 300, 8.0, 15.0, 'V;R',        'assisted', 25),
    ('ktm-egy',  'KOTTAMIA',   'Kottamia Astronomical Observatory',  280, 10.0, 23.0, 'B;V;R',     'manual',   30),
    ('oao-jpn',  'OKAYAMA',    'Okayama Astrophysical Observatory',  400, 8.0, 23.0, 'g;r;i',      'robotic',  25),
    ('kiso-jpn', 'KISO',       'Kiso Observatory',                   203, 5.0, 23.0, 'B;V;R',      'assisted', 20),
    ('sao-rus',  'USSR6',      'Special Astrophysical Observatory',  508, 8.0, 36.0, 'B;V;R;I',    'assisted', 20),
    ('ohp-fra',  'HPROV1.52',  'Observatoire de Haute-Provence',     600, 6.0, 36.0, 'B;V;R;I',    'robotic',  25),
    ('lpa-esp',  'LPO1',       'Roque de los Muchachos (La Palma)',  800, 7.0, 36.0, 'g;r;i;z',    'robotic',  20),
    ('tls-deu',  'TAUTSCHM',   'Thueringer Landessternwarte Tautenburg', 250, 5.0, 23.0, 'CV;V;R', 'assisted', 30),
    ('ekar-ita', 'MTEKAR',     'Asiago Observatory (Cima Ekar)',     406, 8.0, 23.0, 'B;V;R;I',    'assisted', 25),
    ('sta-gbr',  'ST.ANDREWS', 'University of St Andrews Observatory', 150, 7.0, 15.0, 'CV;V',     'manual',   30),
    ('kpno-usa', 'KPNO84',     'Kitt Peak National Observatory',     508, 6.8, 36.0, 'B;V;R;I',    'robotic',  20),
    ('mcd-usa',  'MCDONLD2.1', 'McDonald Observatory',               356, 10.0, 23.0, 'B;V;R;I',   'robotic',  25),
    ('apo-usa',  'APO3.5',     'Apache Point Observatory',           610, 5.0, 36.0, 'g;r;i',      'robotic',  20),
    ('lick-usa', 'LICK120',    'Lick Observatory',                   280, 7.0, 15.0, 'B;V;R',      'assisted', 25),
    ('dao-can',  'DAO72',      'Dominion Astrophysical Observatory', 300, 8.0, 23.0, 'V;R;I',      'manual',   25),
    ('spm-mex',  'SANPM83',    'Observatorio Astronomico Nacional San Pedro Martir', 840, 8.0, 36.0, 'B;V;R;I', 'robotic', 20),
]


COUNTRY_FIX = {'GB': 'United Kingdom'}   # tzdata's iso3166.tab spells it 'Britain (UK)'


def build_sites(log):
    import palpy
    from timezonefinder import TimezoneFinder
    obs = palpy.obs()
    tf = TimezoneFinder()
    zone2cc = {}
    for line in open('/usr/share/zoneinfo/zone.tab', encoding='utf-8'):
        if not line.startswith('#') and line.strip():
            f = line.split('\t'); zone2cc[f[2].strip()] = f[0]
    cc2name = {}
    for line in open('/usr/share/zoneinfo/iso3166.tab', encoding='utf-8'):
        if not line.startswith('#') and line.strip():
            f = line.rstrip('\n').split('\t'); cc2name[f[0]] = f[1]
    out = []
    for sid, key, name, ap, fratio, sensor, filters, auto, altlim in SITES:
        o = obs[key]
        lat = math.degrees(o['lat'])
        lon = -math.degrees(o['long'])        # PAL/SLALIB longitudes are WEST-positive
        lon = ((lon + 180.0) % 360.0) - 180.0
        if lon == -180.0: lon = 180.0
        tz = tf.timezone_at(lng=lon, lat=lat)
        cc = zone2cc.get(tz, '')
        fov = 3437.75 * sensor / (ap * fratio)
        lim = 13.9 + 5.0 * math.log10(ap / 100.0)
        out.append(dict(site_id=sid, name=name, latitude=round(lat, 5), longitude=round(lon, 5),
                        elevation_m=round(o['height']), aperture_mm=ap, filters=filters,
                        fov_arcmin=round(min(90.0, max(10.0, fov)), 1), limiting_mag=round(min(20.0, max(14.0, lim)), 1),
                        automation_level=auto, altitude_limit_deg=altlim, timezone=tz,
                        country=COUNTRY_FIX.get(cc, cc2name.get(cc, cc)), _pal=f"{key}: {o['name']}"))
        log.append('site %-9s <- palObs %-11s %-45s lat %9.5f lon %10.5f tz %s' % (sid, key, o['name'], lat, lon, tz))
    return out


# ----------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--stellarium-data', required=True)
    ap.add_argument('--stellarium-bin', required=True)
    ap.add_argument('--out', default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    sd = a.stellarium_data
    log = []
    hipcat = {}
    for fn in ('stars_2_0v0_8.cat', 'stars_1_0v0_8.cat', 'stars_0_0v0_8.cat'):
        hipcat.update(read_hip_catalog(os.path.join(sd, 'stars/default', fn)))
    log.append('Hipparcos stars decoded from Stellarium catalogues: %d' % len(hipcat))
    cross, hd2hip, hr2hip = load_cross_ids(os.path.join(sd, 'stars/default/cross-id.dat'))
    names = load_proper_names(os.path.join(sd, 'skycultures/western/star_names.fab'))
    exo, offset = extract_exoplanets_json(a.stellarium_bin)
    log.append('exoplanets.json extracted from %s at byte offset %d' % (a.stellarium_bin, offset))

    hosts = select_exoplanet_hosts(exo, hipcat, cross, hd2hip, hr2hip, log)
    host_hips = {h['_hip'] for h in hosts if h['_hip']}
    variables = select_variables(sd, hipcat, cross, names, host_hips, log)
    # positional de-duplication (a host that is also a GCVS variable would otherwise appear twice)
    targets = []
    for t in variables + hosts:
        if any(sep_deg(t['ra_deg'], t['dec_deg'], u['ra_deg'], u['dec_deg']) < 30 / 3600 for u in targets):
            log.append('dropped positional duplicate ' + t['name']); continue
        targets.append(t)
    cols = ['name', 'ra_deg', 'dec_deg', 'target_type', 'magnitude', 'priority', 'cadence_hours',
            'classification', 'aliases', 'source']
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, 'targets.csv'), 'w', newline='', encoding='utf-8') as fh:
        w = csv.writer(fh, lineterminator='\n')
        w.writerow(cols)
        for t in targets:
            w.writerow([t['name'], '%.6f' % t['ra_deg'], '%+.6f' % t['dec_deg'], t['target_type'],
                        '%.2f' % t['magnitude'], t['priority'], '%.1f' % t['cadence_hours'],
                        t['classification'], t['aliases'], t['source']])
    sites = build_sites(log)
    scols = ['site_id', 'name', 'latitude', 'longitude', 'elevation_m', 'aperture_mm', 'filters', 'fov_arcmin',
             'limiting_mag', 'automation_level', 'altitude_limit_deg', 'timezone', 'country']
    with open(os.path.join(a.out, 'sites.csv'), 'w', newline='', encoding='utf-8') as fh:
        w = csv.writer(fh, lineterminator='\n')
        w.writerow(scols)
        for s in sites:
            w.writerow(['%.5f' % s[c] if c in ('latitude', 'longitude') else s[c] for c in scols])
    log.append('wrote %d targets (%d variable, %d exoplanet hosts), %d sites' % (
        len(targets), sum(t['target_type'] == 'variable_star' for t in targets),
        sum(t['target_type'] == 'exoplanet_transit' for t in targets), len(sites)))
    print('\n'.join(log))


if __name__ == '__main__':
    main()
