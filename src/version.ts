/** Product identity, shown by `sysinfo`, `--version` and the IKE Vendor ID. */
export const PRODUCT = 'meshgate';
export const VERSION = '0.1.0';
