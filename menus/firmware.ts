/** /Firmware: the software version. */
import { menu, status, type MenuNode } from './model.js';

export const firmwareMenu: MenuNode = menu('Firmware', 'Software version', [
  status('Version', 'Version, build and start time', 'firmware.version', 'pairs', [
    ['Version', 'Software version'],
    ['Node', 'Node.js version'],
    ['Start-Time', 'When this process started'],
  ]),
]);
