// Connections to a Temporal server named by the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY and TEMPORAL_TLS_* (read by @temporalio/envconfig, so Temporal Cloud works).
import { Client, Connection, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { PayloadCodec, SignalDefinition } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from './payload-codec';

export interface TemporalConnections {
  /** For workers. */
  native: NativeConnection;
  client: Client;
  close(): Promise<void>;
}

/** Address, credentials and namespace of the Temporal server the environment names. */
export function temporalSettingsFromEnv() {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return {
    namespace: namespace ?? 'default',
    connection: {
      address: connectionOptions.address ?? 'localhost:7233',
      apiKey: connectionOptions.apiKey as string | undefined,
      tls: connectionOptions.tls,
      metadata: connectionOptions.metadata,
    },
  };
}

export async function connectToTemporal(options: { native: boolean }): Promise<TemporalConnections> {
  const { namespace, connection: settings } = temporalSettingsFromEnv();
  const connection = await Connection.connect(settings);
  const native = options.native ? await NativeConnection.connect(settings) : undefined;
  return {
    get native() {
      if (!native) throw new Error('connectToTemporal: no worker connection was asked for');
      return native;
    },
    client: new Client({ connection, namespace }),
    async close() {
      await Promise.all([connection.close(), native?.close()]);
    },
  };
}

/** What Nurture's clients and workers convert payloads with: the payload codec, and failures whose texts it encrypts. */
export function nurtureDataConverter(codec: PayloadCodec) {
  return { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/** The same connection and namespace as `client`, with payloads going through `codec`. */
export function withPayloadCodec(client: Client, codec: PayloadCodec): Client {
  return new Client({ connection: client.connection, namespace: client.options.namespace, dataConverter: nurtureDataConverter(codec) });
}

/**
 * Signals a workflow; resolves false when it does not run (never started, or ended): nobody is
 * left to tell, which for an enrolment is not an error.
 */
export async function signalIfRunning<Args extends unknown[]>(handle: WorkflowHandle, signal: SignalDefinition<Args>, ...args: Args): Promise<boolean> {
  try {
    await handle.signal(signal, ...args);
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}
