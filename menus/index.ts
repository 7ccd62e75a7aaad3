/**
 * The whole menu tree, and the catalogs of ids that modules register providers for.
 * menus/ imports nothing but its own model: data only.
 */
import { menu, type MenuNode } from './model.js';
import { setupMenu } from './setup.js';
import { statusMenu } from './status.js';
import { otherMenu } from './other.js';
import { firmwareMenu } from './firmware.js';

export * from './model.js';
export * from './types.js';
export * from './licence.js';
export { PEERS_TABLE } from './setup.js';

/** The root: /Setup, /Status, /Other, /Firmware. */
export const ROOT_MENU: MenuNode = menu('', 'meshgate', [setupMenu, statusMenu, otherMenu, firmwareMenu]);

/** Which module provides each action id (the handler is registered at run time). */
export const ACTION_OWNERS: Readonly<Record<string, 'router' | 'engine'>> = {
  'vpn.connect': 'engine',
  'vpn.disconnect': 'engine',
  'vpn.rekey': 'engine',
  'mesh.clear': 'engine',
  'mesh.why': 'engine',
  'sites.flush': 'engine',
  'sites.refresh': 'engine',
  'sites.put': 'engine',
  'sites.delete': 'engine',
  'pki.create-ca': 'router',
  'pki.issue': 'router',
  'config.confirm': 'router',
  'config.rollback': 'router',
  'system.reboot': 'router',
};

/** Which module fills each status view id. */
export const STATUS_VIEW_OWNERS: Readonly<Record<string, 'router' | 'engine'>> = {
  'router.sysinfo': 'router',
  'router.sessions': 'router',
  'router.events': 'router',
  'config.commits': 'router',
  'firmware.version': 'router',
  'vpn.peers': 'engine',
  'vpn.ike-sas': 'engine',
  'vpn.child-sas': 'engine',
  'vpn.errors': 'engine',
  'mesh.connected-prefixes': 'engine',
  'mesh.requested-prefixes': 'engine',
  'mesh.tunnels': 'engine',
  'mesh.switchovers': 'engine',
  'mesh.statistics': 'engine',
  'sites.dynamic-routes': 'engine',
  'sites.statistics': 'engine',
  'licence.usage': 'engine',
  routes: 'engine',
  flows: 'engine',
  interfaces: 'engine',
};
