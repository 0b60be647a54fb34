#include "http/api_router.h"

namespace vigil::http {

// A single self-contained page: no external assets (the machine may be
// offline). It polls /metrics, /models and /config every two seconds. The
// drift panel draws, per feature ranked by PSI, the training slice's share
// of each reference bin (grey) beside live traffic's (blue), as SVG.
const std::string& dashboard_page() {
  static const std::string page = R"HTML(<!doctype html>
<html><head><meta charset="utf-8"><title>Vigil</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;background:#f7f7f9;color:#222}
h1{margin:0 0 1rem}.cards{display:flex;flex-wrap:wrap;gap:1rem}
.card{background:#fff;border-radius:8px;padding:1rem 1.4rem;box-shadow:0 1px 3px #0002;min-width:11rem}
.card b{display:block;font-size:1.8rem}table{border-collapse:collapse;margin-top:1rem;background:#fff}
td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}pre{background:#fff;padding:1rem}
.ref{fill:#bbb}.live{fill:#3b6fd6}.high{color:#b00;font-weight:bold}
</style></head><body>
<h1>Vigil</h1>
<div class="cards">
 <div class="card">records/s<b id="rate">-</b></div>
 <div class="card">approve<b id="approve">-</b></div>
 <div class="card">review<b id="review">-</b></div>
 <div class="card">decline<b id="decline">-</b></div>
 <div class="card">latency p99 (ms)<b id="p99">-</b></div>
 <div class="card">model<b id="model">-</b></div>
 <div class="card">paused<b id="paused">-</b></div>
 <div class="card">dead letters<b id="dlq">-</b></div>
</div>
<h2>Models</h2><table id="models"><tr><th>version</th><th>stage</th><th>PR-AUC</th><th>recall</th></tr></table>
<h2>Drift</h2>
<p>Window <select id="drift-window"><option value="1h">1h</option><option value="24h" selected>24h</option><option value="7d">7d</option><option value="30d">30d</option></select>
 <span id="drift-status">-</span></p>
<table id="drift-features"></table>
<h3>Served decisions against labels, by week of label arrival</h3>
<table id="label-weeks"></table>
<h2>Config</h2><pre id="config"></pre>
<script>
let last=null;
const esc=s=>String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
// Reference (grey) and live (blue) share of each bin, side by side.
function bars(f){const n=f.shares.length,w=240,h=40,bw=w/n,top=Math.max(...f.shares,...f.reference_shares,1e-9);
 let s=`<svg width="${w}" height="${h}" role="img" aria-label="${esc(f.name)}">`;
 for(let i=0;i<n;i++){const r=f.reference_shares[i]/top*h,l=f.shares[i]/top*h;
  s+=`<rect class="ref" x="${i*bw+1}" y="${h-r}" width="${bw/2-1}" height="${r}"></rect>`+
     `<rect class="live" x="${i*bw+bw/2}" y="${h-l}" width="${bw/2-1}" height="${l}"></rect>`}
 return s+'</svg>'}
function drawDrift(drift){const name=document.getElementById('drift-window').value;
 const st=document.getElementById('drift-status'),tb=document.getElementById('drift-features');
 document.getElementById('label-weeks').innerHTML='<tr><th>week of</th><th>labels</th><th>fraud</th><th>precision</th><th>recall</th></tr>'+
  (drift.label_weeks||[]).map(x=>`<tr><td>${esc(x.week_of)}</td><td>${x.labels}</td><td>${x.fraud}</td><td>${x.precision.toFixed(3)}</td><td>${x.recall.toFixed(3)}</td></tr>`).join('');
 const w=(drift.windows||[]).find(x=>x.window===name);
 if(!w){st.textContent=`model v${drift.model_version}: ${drift.status}`;tb.innerHTML='';return}
 st.textContent=`model v${drift.model_version}: ${drift.status}, ${w.rows} decisions counted in the last ${w.window} (1 in ${drift.sample_every})`+
  (w.complete?'':', window not yet complete')+`; score PSI ${w.score.psi.toFixed(3)}`;
 tb.innerHTML='<tr><th>feature</th><th>PSI</th><th>missing live / training</th><th>training (grey) vs live (blue)</th></tr>'+
  w.features.slice(0,15).map(f=>`<tr class="feature"><td>${esc(f.name)}</td><td class="psi${f.psi>0.25?' high':''}">${f.psi.toFixed(3)}</td>`+
  `<td>${(f.missing_share*100).toFixed(1)}% / ${(f.reference_missing_share*100).toFixed(1)}%</td><td>${bars(f)}</td></tr>`).join('')}
let lastDrift=null;
document.getElementById('drift-window').addEventListener('change',()=>{if(lastDrift)drawDrift(lastDrift)});
function metric(text,name){const m=text.match(new RegExp('^'+name.replace(/[{}"]/g,'\\$&')+' ([0-9.e+-]+)$','m'));return m?parseFloat(m[1]):0}
function quantile(text,name,q){const re=new RegExp('^'+name+'_bucket\\{le="([^"]+)"\\} ([0-9]+)$','gm');let b=[],m;
 while((m=re.exec(text)))b.push([m[1]==='+Inf'?Infinity:parseFloat(m[1]),parseFloat(m[2])]);if(!b.length)return 0;
 const total=b[b.length-1][1];for(const [le,c] of b)if(c>=q*total)return le;return Infinity}
async function refresh(){
 const t=await (await fetch('/metrics')).text();const now=Date.now();const n=metric(t,'vigil_records_in_total');
 if(last)document.getElementById('rate').textContent=Math.round((n-last.n)/((now-last.t)/1000));last={n,t:now};
 for(const d of ['approve','review','decline'])document.getElementById(d).textContent=metric(t,'vigil_decisions_total{decision="'+d+'"}');
 document.getElementById('p99').textContent=(quantile(t,'vigil_decision_latency_seconds',0.99)*1000).toFixed(2);
 document.getElementById('model').textContent='v'+metric(t,'vigil_model_version');
 document.getElementById('paused').textContent=metric(t,'vigil_source_paused')?'yes':'no';
 document.getElementById('dlq').textContent=metric(t,'vigil_dlq_records_total');
 const models=await (await fetch('/models')).json();const tb=document.getElementById('models');
 tb.innerHTML='<tr><th>version</th><th>stage</th><th>PR-AUC</th><th>recall</th></tr>'+models.models.map(m=>
  `<tr><td>${m.version}</td><td>${m.stage}</td><td>${(m.metrics?.pr_auc??0).toFixed(4)}</td><td>${(m.metrics?.recall??0).toFixed(4)}</td></tr>`).join('');
 if(models.drift){lastDrift=models.drift;drawDrift(models.drift)}
 document.getElementById('config').textContent=JSON.stringify((await (await fetch('/config')).json()).config,null,1);
}
refresh();setInterval(refresh,2000);
</script></body></html>
)HTML";
  return page;
}

} // namespace vigil::http
