import ELK from 'elkjs/lib/elk.bundled.js';
const elk = new ELK();
for (const n of [200, 600, 2000]) {
  const nodes = [{id:'root',width:200,height:64}, ...Array.from({length:n-2},(_,i)=>({id:'n'+i,width:200,height:64})), {id:'join',width:200,height:64}];
  const edges = [];
  for (let i=0;i<n-2;i++){edges.push({id:'a'+i,sources:['root'],targets:['n'+i]});edges.push({id:'b'+i,sources:['n'+i],targets:['join']});}
  const t=performance.now();
  await elk.layout({id:'g',layoutOptions:{'elk.algorithm':'layered','elk.direction':'RIGHT','elk.layered.nodePlacement.strategy':'SIMPLE','elk.layered.thoroughness':'1','elk.layered.crossingMinimization.greedySwitch.type':'OFF','elk.layered.considerModelOrder.strategy':'NODES_AND_EDGES','elk.edgeRouting':'POLYLINE'},children:nodes,edges});
  console.log(n, Math.round(performance.now()-t),'ms');
}
