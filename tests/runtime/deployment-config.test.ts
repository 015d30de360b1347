// TRUST_PROXY and METRICS_TOKEN: what each value means, and a clear error naming the variable
// for a value that would not do what its operator expects.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig, metricsToken, SECRET_VARIABLES, trustedProxies } from '../../runtime/config';

/** An environment with the secrets every process needs. */
const withSecrets = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(SECRET_VARIABLES.map((name) => [name, randomBytes(32).toString('base64url')])),
  ...env,
});

describe('TRUST_PROXY', () => {
  it('trusts no proxy when unset, empty or false', () => {
    for (const value of [undefined, '', ' ', 'false', 'FALSE']) expect(trustedProxies({ TRUST_PROXY: value })).toBe(false);
    expect(loadConfig(withSecrets({})).trustProxy).toBe(false);
  });

  it('takes a comma-separated list of IPs, CIDRs and named ranges', () => {
    expect(trustedProxies({ TRUST_PROXY: '10.0.0.0/8' })).toEqual(['10.0.0.0/8']);
    expect(trustedProxies({ TRUST_PROXY: ' 10.1.2.3, 192.168.0.0/16 ,fd00::/8,::1,loopback,uniquelocal' })).toEqual([
      '10.1.2.3', '192.168.0.0/16', 'fd00::/8', '::1', 'loopback', 'uniquelocal',
    ]);
    expect(loadConfig(withSecrets({ TRUST_PROXY: '172.16.0.0/12' })).trustProxy).toEqual(['172.16.0.0/12']);
  });

  it('refuses hop counts, true, and anything that is not an address or a range, naming TRUST_PROXY', () => {
    expect(() => trustedProxies({ TRUST_PROXY: '1' })).toThrow(/^TRUST_PROXY=1: hop counts are not supported/);
    expect(() => trustedProxies({ TRUST_PROXY: 'true' })).toThrow(/^TRUST_PROXY=true would let every client choose its own address/);
    for (const value of ['10.0.0.0/33', '::/129', '10.0.0.300', 'balancer.internal', '10.0.0.0/8,', '10.0.0.0/8/1', '10.0.0.0/abc', '*']) {
      expect(() => trustedProxies({ TRUST_PROXY: value }), value).toThrow(/^TRUST_PROXY: .* is not an IP address, a CIDR or one of loopback, linklocal, uniquelocal/);
    }
    expect(() => loadConfig(withSecrets({ TRUST_PROXY: '2' }))).toThrow(/TRUST_PROXY/);
  });
});

describe('METRICS_TOKEN', () => {
  it('is optional (then /metrics is off) and otherwise long and printable', () => {
    expect(metricsToken({})).toBeUndefined();
    expect(metricsToken({ METRICS_TOKEN: '' })).toBeUndefined();
    const token = randomBytes(32).toString('hex');
    expect(metricsToken({ METRICS_TOKEN: token })).toBe(token);
    expect(loadConfig(withSecrets({ METRICS_TOKEN: token })).metricsToken).toBe(token);
    expect(loadConfig(withSecrets({ NODE_ENV: 'production' })).metricsToken).toBeUndefined();
    expect(() => metricsToken({ METRICS_TOKEN: 'short' })).toThrow(/^METRICS_TOKEN must be at least 32 characters long \(it has 5\)/);
    expect(() => metricsToken({ METRICS_TOKEN: `${token} x` })).toThrow(/^METRICS_TOKEN must be printable ASCII without spaces/);
  });
});
