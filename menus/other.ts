/** /Other: actions run with `do`. Handlers are registered by action id through `router.registerAction`. */
import { action, menu, t, type MenuNode } from './model.js';
import { PEERS_TABLE } from './setup.js';

const peerOrAll = { name: 'peer', help: 'Peer name, or * for all', type: t.string(16, 'identity', 1) };

export const otherMenu: MenuNode = menu('Other', 'Actions (run with do)', [
  menu('VPN', 'VPN actions', [
    action('Connect', 'Build the tunnel to a peer now', 'vpn.connect', [{ name: 'peer', help: 'Peer name', type: t.ref(PEERS_TABLE) }]),
    action('Disconnect', 'Clear the tunnel(s) to a peer', 'vpn.disconnect', [peerOrAll]),
    action('Rekey', 'Rekey the IKE SA of a peer', 'vpn.rekey', [{ name: 'peer', help: 'Peer name', type: t.ref(PEERS_TABLE) }]),
  ]),
  menu('Mesh', 'Mesh actions', [
    action('Clear', 'Remove mesh tunnels (to one peer, or * for all); traffic falls back to the hub', 'mesh.clear', [peerOrAll]),
    action('Why', 'Why traffic to an address takes the hub path or the direct one', 'mesh.why', [
      { name: 'address', help: 'Destination address', type: t.address() },
    ], true),
  ]),
  menu('Site-Directory', 'Site directory actions', [
    action('Flush', 'Remove all dynamic routes of the site directory (their tunnels are deleted)', 'sites.flush'),
    action('Refresh', 'Re-read connected sites from the database: a changed, deactivated or deleted row takes its tunnel down', 'sites.refresh', [
      { name: 'site', help: 'Site name, or * for every connected site', type: t.string(64, 'identity', 1) },
    ]),
    action('Put', 'Add a site to the directory, or replace the row of that name (a connected site is refreshed)', 'sites.put', [
      { name: 'site', help: 'Site name: letters, digits, . _ -', type: t.string(64, 'identity', 1) },
      { name: 'identity', help: 'IKE identity: fqdn:, user-fqdn:, ipv4:, ipv6:, key-id: and the value, or a bare name/address', type: t.string(255, 'printable', 1) },
      { name: 'gateway', help: 'Remote gateway: host name or address [:port]', type: t.string(255, 'printable', 1) },
      { name: 'network', help: 'Remote network; its prefix length is the directory\'s Remote-Mask', type: t.prefix('any') },
      { name: 'psk', help: 'Pre-shared key (8-256 characters; never shown)', type: t.secret(256, 'plain') },
      { name: 'active', help: 'yes: the site may connect', type: t.yesNo(), optional: true },
      { name: 'comment', help: 'Free text', type: t.string(255, 'printable'), optional: true },
    ]),
    action('Delete', 'Remove a site from the directory (a connected site goes down)', 'sites.delete', [
      { name: 'site', help: 'Site name', type: t.string(64, 'identity', 1) },
    ]),
  ]),
  menu('PKI', 'Site CA and node certificates in the config directory (pki/), as meshgate pki makes them', [
    action('Create-CA', 'Create the site CA: pki/ca.crt and pki/ca.key (mode 0600); refused when one exists', 'pki.create-ca', [
      { name: 'name', help: 'Common name of the CA', type: t.string(64, 'printable', 1) },
      { name: 'algorithm', help: 'Key type (default ed25519)', type: t.enum('ed25519', 'ecdsa-p256', 'ecdsa-p384', 'rsa-3072'), optional: true },
    ]),
    action('Issue', 'Issue a node certificate from the site CA: pki/FILE.crt and pki/FILE.key (mode 0600)', 'pki.issue', [
      { name: 'identity', help: 'The node\'s IKE identity (FQDN, user@fqdn or address), written into subjectAltName', type: t.string(254, 'identity', 1) },
      { name: 'file', help: 'File name without extension (default node, the Own-Certificate default)', type: t.string(64, 'name', 1), optional: true },
    ]),
  ]),
  menu('Config', 'Configuration actions', [
    action('Confirm', 'Confirm a pending commit confirmed', 'config.confirm'),
    action('Rollback', 'Return to a committed revision (0 = running, 1 = previous, ...)', 'config.rollback', [
      { name: 'revision', help: 'Revision number', type: t.int(0, 49) },
    ]),
  ]),
  action('Reboot', 'Restart the router (the daemon reloads the config)', 'system.reboot'),
]);
