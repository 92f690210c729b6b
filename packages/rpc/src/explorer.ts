/**
 * The block explorer page served at `/`: one self-contained HTML document (no framework, no
 * external assets). Head and latest blocks update live over `/ws`; search by height, block hash,
 * tx hash, address or contract; pages for block, tx (receipt and logs), account and contract.
 */
import { EXPLORER_RECENT_BLOCKS } from './params.js'

const CSS = `
:root{--bg:#0f1220;--panel:#171b2e;--line:#262b45;--fg:#e6e8f2;--dim:#8b91b0;--acc:#7aa2ff;--ok:#3ecf8e;--bad:#ff6b6b;--warn:#f5c451}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif}
a{color:var(--acc);text-decoration:none}a:hover{text-decoration:underline}
header{display:flex;gap:16px;align-items:center;padding:14px 24px;border-bottom:1px solid var(--line);background:var(--panel);position:sticky;top:0}
header h1{font-size:18px;margin:0;white-space:nowrap}header h1 a{color:var(--fg)}
form{flex:1;display:flex;gap:8px;max-width:720px}
input{flex:1;background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:8px;padding:8px 12px;font:inherit}
button{background:var(--acc);color:#0b0e1a;border:0;border-radius:8px;padding:8px 14px;font-weight:600;cursor:pointer}
#live{font-size:12px;color:var(--dim)}#live.on::before{content:'● ';color:var(--ok)}#live.off::before{content:'● ';color:var(--bad)}
main{max-width:1100px;margin:0 auto;padding:20px 24px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin-bottom:20px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:12px 16px}.card b{display:block;font-size:20px}.card span{color:var(--dim);font-size:12px}
table{width:100%;border-collapse:collapse;background:var(--panel);border:1px solid var(--line);border-radius:10px;overflow:hidden}
th,td{text-align:left;padding:8px 12px;border-bottom:1px solid var(--line);vertical-align:top}th{color:var(--dim);font-weight:500;width:180px}
tr.new{animation:flash 1.2s ease-out}@keyframes flash{from{background:#2a3566}to{background:transparent}}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px;word-break:break-all}
.Success,.included{color:var(--ok)}.Failed,.Reverted,.OutOfGas,.failed{color:var(--bad)}.pending{color:var(--warn)}
h2{font-size:16px;margin:20px 0 10px}.err{background:#3a1d24;border:1px solid #6b2a35;padding:12px;border-radius:10px}
pre{background:var(--bg);padding:8px;border-radius:6px;overflow:auto;margin:0}
`

const JS = `
const $=s=>document.querySelector(s),app=$('#app'),RECENT=${EXPLORER_RECENT_BLOCKS}
const esc=s=>String(s).replace(/[&<>"']/g,c=>'&#'+c.charCodeAt(0)+';')
const short=h=>h&&h.length>20?h.slice(0,10)+'…'+h.slice(-8):h
const link=(kind,v,label)=>'<a class="mono" href="#/'+kind+'/'+esc(v)+'">'+esc(label??short(String(v)))+'</a>'
const ago=ts=>{const s=Math.max(0,Math.round((Date.now()-ts)/1000));return s<60?s+'s ago':s<3600?Math.round(s/60)+'m ago':new Date(ts).toLocaleString()}
async function api(p){const r=await fetch(p);const j=await r.json();if(!r.ok)throw Object.assign(new Error(j.error?.message||r.status),{status:r.status,code:j.error?.code});return j}
const rows=o=>'<table>'+o.map(([k,v])=>'<tr><th>'+esc(k)+'</th><td>'+v+'</td></tr>').join('')+'</table>'
const mono=v=>'<span class="mono">'+esc(v)+'</span>'
let blocks=[],head=null
function blockRow(b,cls=''){return '<tr class="'+cls+'" data-h="'+b.height+'"><td>'+link('block',b.height,'#'+b.height)+'</td><td class="mono">'+link('block',b.hash)+'</td><td>'+b.txCount+'</td><td>'+esc(b.gasUsed)+'</td><td>'+link('account',b.proposer)+'</td><td>'+ago(b.timestamp)+'</td></tr>'}
function renderHome(){
  if(!head){app.innerHTML='<p>Loading…</p>';return}
  app.innerHTML='<div class="cards"><div class="card"><span>Head</span><b id="head-height">'+head.height+'</b></div><div class="card"><span>Chain id</span><b>'+esc(head.chainId)+'</b></div><div class="card"><span>Last block</span><b id="head-age">'+ago(head.timestamp)+'</b></div><div class="card"><span>Txs in recent blocks</span><b>'+blocks.reduce((a,b)=>a+b.txCount,0)+'</b></div></div>'+
  '<h2>Latest blocks</h2><table id="blocks"><tr><th>Height</th><th>Hash</th><th>Txs</th><th>Gas used</th><th>Proposer</th><th>Time</th></tr>'+blocks.map(b=>blockRow(b)).join('')+'</table>'
}
async function loadRecent(){
  head=await api('/chain/head')
  const hs=[];for(let h=head.height;h>=0&&hs.length<RECENT;h--)hs.push(h)
  blocks=(await Promise.all(hs.map(h=>api('/block/'+h).catch(()=>null)))).filter(Boolean)
}
function onBlock(b){
  if(blocks.some(x=>x.height===b.height))return
  blocks.unshift(b);blocks=blocks.slice(0,RECENT)
  if(!head||b.height>=head.height)head={...b}
  if(route()[0]===''){const t=$('#blocks');if(!t){renderHome();return}
    $('#head-height').textContent=head.height;$('#head-age').textContent=ago(head.timestamp)
    t.rows[0].insertAdjacentHTML('afterend',blockRow(b,'new'));while(t.rows.length>RECENT+1)t.deleteRow(-1)}
}
function connect(){
  const ws=new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+'/ws')
  ws.onopen=()=>{$('#live').className='on';$('#live').textContent='live';const m={op:'subscribe',channel:'new_blocks'};if(head)m.fromHeight=head.height+1;ws.send(JSON.stringify(m))}
  ws.onmessage=e=>{const m=JSON.parse(e.data);if(m.op==='event'&&m.channel==='new_blocks')onBlock(m.data)}
  ws.onclose=()=>{$('#live').className='off';$('#live').textContent='reconnecting';setTimeout(connect,1500)}
}
function txTable(t){
  const x=t.tx,r=t.receipt,o=[['Hash',mono(t.hash)],['Status','<b class="'+t.status+'">'+t.status+'</b>'+(r&&r.status!=='Success'?' ('+esc(r.status)+')':'')],['Kind',esc(x.kind)]]
  if(t.blockHeight!==undefined)o.push(['Block',link('block',t.blockHeight,'#'+t.blockHeight)+(t.index!==undefined?' · index '+t.index:'')])
  o.push(['From',link('account',x.from,x.from)])
  if(x.to)o.push(['To',link('account',x.to,x.to)]);if(x.contract)o.push(['Contract',link('contract',x.contract,x.contract)])
  if(x.function)o.push(['Function',mono(x.function)]);if(x.amount!==undefined)o.push(['Amount',esc(x.amount)]);if(x.value!==undefined)o.push(['Value',esc(x.value)])
  if(x.codeSize!==undefined)o.push(['Code size',x.codeSize+' bytes']);if(x.args&&x.args!=='0x')o.push(['Args',mono(x.args)])
  o.push(['Nonce',esc(x.nonce)],['Gas price',esc(x.gasPrice)],['Gas limit',esc(x.gasLimit)])
  let h='<h2>Transaction</h2>'+rows(o)
  if(r){const ro=[['Status','<b class="'+r.status+'">'+r.status+'</b>'],['Gas used',esc(r.gasUsed)],['Fee',esc(r.fee)],['Output',mono(r.output)]]
    if(r.error)ro.push(['Error',mono(r.error.code+': '+r.error.message)]);if(r.contractAddress)ro.push(['Contract created',link('contract',r.contractAddress,r.contractAddress)])
    if(r.debugLogs.length)ro.push(['Debug logs','<pre>'+esc(r.debugLogs.join('\\n'))+'</pre>'])
    ro.push(['Balance changes',r.balanceChanges.map(c=>link('account',c.address)+' → '+esc(c.balance)).join('<br>')||'—'])
    h+='<h2>Receipt</h2>'+rows(ro)
    h+='<h2>Logs ('+r.logs.length+')</h2>'+(r.logs.length?'<table><tr><th>Address</th><th>Topics</th><th>Data</th></tr>'+r.logs.map(l=>'<tr><td>'+link('contract',l.address)+'</td><td class="mono">'+l.topics.map(esc).join('<br>')+'</td><td class="mono">'+esc(l.data)+'</td></tr>').join('')+'</table>':'<p>None.</p>')}
  return h
}
async function page(){
  const [kind,arg]=route()
  try{
    if(kind===''){if(!head)await loadRecent();renderHome();return}
    app.innerHTML='<p>Loading…</p>'
    if(kind==='block'){const b=await api('/block/'+encodeURIComponent(arg)+'?txs=full')
      app.innerHTML='<h2>Block #'+b.height+'</h2>'+rows([['Hash',mono(b.hash)],['Parent',b.height>0?link('block',b.parentHash,b.parentHash):mono(b.parentHash)],['Time',esc(new Date(b.timestamp).toISOString())+' ('+ago(b.timestamp)+')'],['Proposer',link('account',b.proposer,b.proposer)],['Gas used / limit',esc(b.gasUsed)+' / '+esc(b.gasLimit)],['State root',mono(b.stateRoot)],['Tx root',mono(b.txRoot)],['Receipts root',mono(b.receiptsRoot)]])+
      '<h2>Transactions ('+b.txCount+')</h2>'+(b.txCount?'<table><tr><th>Hash</th><th>Kind</th><th>From</th><th>To / contract</th><th>Amount / value</th></tr>'+b.transactions.map(t=>'<tr><td>'+link('tx',t.hash)+'</td><td>'+esc(t.kind)+'</td><td>'+link('account',t.from)+'</td><td>'+(t.to?link('account',t.to):t.contract?link('contract',t.contract):'—')+'</td><td>'+esc(t.amount??t.value??'')+'</td></tr>').join('')+'</table>':'<p>No transactions.</p>')}
    else if(kind==='tx'){app.innerHTML=txTable(await api('/tx/'+encodeURIComponent(arg)))}
    else if(kind==='account'||kind==='contract'){const a=await api('/account/'+encodeURIComponent(arg))
      let h='<h2>'+(a.isContract?'Contract':'Account')+'</h2>'+rows([['Address',mono(a.address)],['Balance',esc(a.balance)],['Nonce',esc(a.nonce)],['Stake',esc(a.stake)],['Unbonding',a.unbonding.map(u=>esc(u.amount)+' at #'+u.releaseHeight).join('<br>')||'—']])
      if(a.isContract){const c=await api('/contract/'+encodeURIComponent(arg))
        h+='<h2>Code</h2>'+rows([['Code hash',mono(c.codeHash)],['Size',c.codeSize+' bytes'],['Exports',c.exports.map(mono).join(', ')||'—'],['Deployer',c.deployer?link('account',c.deployer,c.deployer):'—'],['Deployed in',c.deployHeight!==undefined?link('block',c.deployHeight,'#'+c.deployHeight):'—'],['Deploy tx',c.deployTx?link('tx',c.deployTx):'—']])}
      app.innerHTML=h}
    else throw new Error('unknown page')
  }catch(e){app.innerHTML='<div class="err">'+(e.status===404?'Not found: ':'Error: ')+esc(e.message)+'</div>'}
}
function route(){const m=location.hash.replace(/^#\\/?/,'').split('/');return [m[0]||'',decodeURIComponent(m.slice(1).join('/'))]}
async function search(q){
  q=q.trim();if(!q)return
  if(/^\\d+$/.test(q))return location.hash='#/block/'+q
  if(/^0x[0-9a-fA-F]{40}$/.test(q))return location.hash='#/account/'+q.toLowerCase()
  if(/^0x[0-9a-fA-F]{64}$/.test(q)){q=q.toLowerCase()
    try{await api('/tx/'+q);return location.hash='#/tx/'+q}catch{}
    try{await api('/block/'+q);return location.hash='#/block/'+q}catch{}
    app.innerHTML='<div class="err">No block or transaction with hash '+esc(q)+'</div>';return}
  app.innerHTML='<div class="err">Search takes a height, a block or transaction hash (0x + 64 hex) or an address (0x + 40 hex).</div>'
}
$('#search').addEventListener('submit',e=>{e.preventDefault();search($('#q').value)})
addEventListener('hashchange',page)
loadRecent().then(()=>{page();connect()},e=>{app.innerHTML='<div class="err">Node unreachable: '+esc(e.message)+'</div>';connect()})
setInterval(()=>{if(head&&$('#head-age'))$('#head-age').textContent=ago(head.timestamp)},5000)
`

/**
 * The explorer page (HTML with inline CSS and JS).
 * @example
 * reply.type('text/html').send(explorerHTML())
 */
export function explorerHTML(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Aureon explorer</title><style>${CSS}</style></head><body><header><h1><a href="#/">◈ Aureon</a></h1><form id="search"><input id="q" placeholder="Search height, block hash, tx hash, address" autocomplete="off" spellcheck="false"><button>Search</button></form><span id="live" class="off">connecting</span></header><main id="app"><p>Loading…</p></main><script>${JS}</script></body></html>`
}
