# Table of ab.sh runs: median of the runs' medians per (guest, metric, path, tree), and the
# median of all their samples pooled. Usage: summary.py OUTDIR...
import json, sys, glob, statistics, os
rows = {}
for root in sys.argv[1:]:
    for f in sorted(glob.glob(root + '/*/results.json')):
        b, g, i = os.path.basename(os.path.dirname(f)).split('-')
        for m in json.load(open(f))['metrics']:
            for path, r in m['results'].items():
                if r.get('status') != 'ok': continue
                e = rows.setdefault((g, m['id'], b, path), {'meds': [], 'samples': [], 'unit': m['unit'], 'name': m['name']})
                e['meds'].append(r['median']); e['samples'] += r.get('samples', [])
print('| guest | metric | path | before: median of run medians (runs) | after | after/before | pooled-sample median before -> after |')
print('|---|---|---|---|---|---|---|')
for g in ('22', '25'):
    for mid in ('submit', 'pipeline'):
        for path in ('native', 'pearvisor'):
            a = rows.get((g, mid, 'base', path)); n = rows.get((g, mid, 'new', path))
            if not a or not n: continue
            ma, mn = statistics.median(a['meds']), statistics.median(n['meds'])
            pa, pn = statistics.median(a['samples']), statistics.median(n['samples'])
            print('| Mesa %s | %s | %s | %.3g %s (%d) | %.3g %s (%d) | %.2f | %.3g -> %.3g |' % ('22.3' if g == '22' else '25', a['name'], path, ma, a['unit'], len(a['meds']), mn, n['unit'], len(n['meds']), mn / ma, pa, pn))
