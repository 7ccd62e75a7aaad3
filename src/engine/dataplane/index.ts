/** The data plane's public surface (see each module for details). */
export * from './address.js';
export * from './checksum.js';
export * from './errors.js';
export * from './flow-table.js';
export * from './forwarder.js';
export * from './ip-packet.js';
export * from './lan-port.js';
export * from './memory-lan-port.js';
export * from './mss-clamp.js';
export * from './packet-batch.js';
export * from './route-table.js';
export * from './seams.js';
export * from './tun-device.js';
export * from './tun-lan-port.js';
