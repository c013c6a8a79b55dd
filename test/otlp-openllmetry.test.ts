/** OpenLLMetry (@traceloop/instrumentation-openai) on the official openai client, through the three OTLP exporters. */
import { realClientSuite } from './helpers/otlp-real-clients.js';

realClientSuite('openllmetry');
