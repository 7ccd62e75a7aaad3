/**
 * From a site row to an IKE peer: the base settings (a template, "the shared settings kept
 * locally") plus what is specific to the site (gateway, identity, key, remote network).
 */
import { formatPrefix } from '../dataplane/address.js';
import type { PeerConfigInput } from '../ike/peer-config.js';
import { SiteDirectoryError } from './errors.js';
import { formatGateway, type Site } from './site.js';

/** Everything of a peer that the site row does not provide. */
export type SitePeerTemplate = Omit<PeerConfigInput, 'name' | 'remoteGateways' | 'remoteId' | 'psk' | 'remotePsk' | 'remoteTs'>;

/** The site needs certificate authentication, which the IKE engine does not offer yet. */
export class SiteAuthUnsupportedError extends SiteDirectoryError {
  static override readonly name: string = 'SiteAuthUnsupportedError';
}

/**
 * The peer for a site. The peer is named after the site. `gatewayAddress` is the gateway's
 * address when the row holds a host name (the engine resolves it; peer configs take addresses).
 */
export function sitePeerConfigInput(site: Site, template: SitePeerTemplate, gatewayAddress?: string, defaultPort = 4500): PeerConfigInput {
  if (site.psk === undefined) throw new SiteAuthUnsupportedError(`site '${site.name}' authenticates with certificate '${site.cert ?? ''}', which is not supported yet`);
  const port = site.gateway.port ?? defaultPort;
  const gateway = gatewayAddress === undefined ? formatGateway({ host: site.gateway.host, port }) : formatGateway({ host: gatewayAddress, port });
  return {
    ...template,
    name: site.name,
    remoteGateways: [gateway],
    remoteId: { ...site.identity },
    psk: site.psk,
    remoteTs: [formatPrefix(site.network)],
  };
}

/** Whether the gateway of a site is a host name that needs resolving before sitePeerConfigInput. */
export function gatewayNeedsResolving(site: Site): boolean {
  return !/^[0-9.]+$/.test(site.gateway.host) && !site.gateway.host.includes(':');
}
