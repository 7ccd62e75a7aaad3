import { MeshgateError } from '../../errors.js';

/** Base of the data plane's errors (TUN device, interface configuration, tables). */
export class DataplaneError extends MeshgateError {
  static override readonly name: string = 'DataplaneError';
}

/** The native TUN addon is not built or cannot be loaded. */
export class TunAddonMissingError extends DataplaneError {
  static override readonly name: string = 'TunAddonMissingError';
}

/** Opening or configuring the TUN device was refused: not root and no CAP_NET_ADMIN. */
export class TunPermissionError extends DataplaneError {
  static override readonly name: string = 'TunPermissionError';
}

/** /dev/net/tun does not exist, or the tun driver is not loaded. */
export class TunUnavailableError extends DataplaneError {
  static override readonly name: string = 'TunUnavailableError';
}

/** Any other failure of open/ioctl on the TUN device (name busy, bad MTU, ...). */
export class TunDeviceError extends DataplaneError {
  static override readonly name: string = 'TunDeviceError';
}

/** An `ip addr`/`ip route` command that sets up the interface failed. */
export class InterfaceConfigError extends DataplaneError {
  static override readonly name: string = 'InterfaceConfigError';
}

/** A route or prefix given to the route table is invalid. */
export class RouteError extends DataplaneError {
  static override readonly name: string = 'RouteError';
}
