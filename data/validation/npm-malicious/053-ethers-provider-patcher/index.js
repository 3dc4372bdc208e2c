// SYNTHETIC, DEFANGED malwi validation sample - modelled on ethers-provider2 / ethers-providerz (2025, patches the installed ethers); never run.
'use strict';
function rpcUrls(chainId) {
  const table = { 1: ['https://rpc-mainnet.example.invalid'], 137: ['https://rpc-polygon.example.invalid'] };
  return table[chainId] || [];
}
module.exports = { rpcUrls };
