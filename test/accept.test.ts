import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  SCRAPE_PROTOCOLS,
  acceptHeader,
  defaultScrapeProtocols,
  isScrapeProtocol,
  mediaType,
  resolveEscapingScheme,
  validateEscapingScheme,
  validateFallbackProtocol,
  validateNameValidationScheme,
  validateScrapeProtocols,
  type ScrapeProtocol,
} from '../src/config/accept.js'

const SUPPORTED =
  '[OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]'
const ESCAPING_CHOICES = "must be one of 'allow-utf-8', 'underscores', 'dots', or 'values'"

describe('protocols', () => {
  it('knows the five protocols and their media types', () => {
    assert.deepEqual([...SCRAPE_PROTOCOLS].sort(), [
      'OpenMetricsText0.0.1', 'OpenMetricsText1.0.0', 'PrometheusProto', 'PrometheusText0.0.4', 'PrometheusText1.0.0',
    ])
    assert.equal(mediaType('PrometheusProto'),
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited')
    assert.equal(mediaType('PrometheusText0.0.4'), 'text/plain;version=0.0.4')
    assert.equal(mediaType('PrometheusText1.0.0'), 'text/plain;version=1.0.0')
    assert.equal(mediaType('OpenMetricsText0.0.1'), 'application/openmetrics-text;version=0.0.1')
    assert.equal(mediaType('OpenMetricsText1.0.0'), 'application/openmetrics-text;version=1.0.0')
  })

  it('matches names case-sensitively and ignores prototype keys', () => {
    assert.equal(isScrapeProtocol('PrometheusProto'), true)
    assert.equal(isScrapeProtocol('prometheusproto'), false)
    assert.equal(isScrapeProtocol('toString'), false)
  })

  it('has the Prometheus default lists', () => {
    assert.deepEqual(defaultScrapeProtocols(false),
      ['OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4'])
    assert.deepEqual(defaultScrapeProtocols(true),
      ['PrometheusProto', 'OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4'])
  })
})

describe('acceptHeader', () => {
  it('default list', () => {
    assert.equal(acceptHeader(defaultScrapeProtocols(false), 'allow-utf-8'),
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,' +
      'application/openmetrics-text;version=0.0.1;q=0.5,' +
      'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,' +
      'text/plain;version=0.0.4;q=0.3,*/*;q=0.2')
  })

  it('native histograms list', () => {
    assert.equal(acceptHeader(defaultScrapeProtocols(true), 'allow-utf-8'),
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,' +
      'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,' +
      'application/openmetrics-text;version=0.0.1;q=0.4,' +
      'text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,' +
      'text/plain;version=0.0.4;q=0.2,*/*;q=0.1')
  })

  it('single legacy text format gets no escaping parameter', () => {
    assert.equal(acceptHeader(['PrometheusText0.0.4'], 'underscores'), 'text/plain;version=0.0.4;q=0.6,*/*;q=0.5')
  })

  for (const scheme of ['underscores', 'dots', 'values'] as const) {
    it(`escaping=${scheme} only on the 1.0.0 formats`, () => {
      assert.equal(acceptHeader(defaultScrapeProtocols(true), scheme),
        'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,' +
        `application/openmetrics-text;version=1.0.0;escaping=${scheme};q=0.5,` +
        'application/openmetrics-text;version=0.0.1;q=0.4,' +
        `text/plain;version=1.0.0;escaping=${scheme};q=0.3,` +
        'text/plain;version=0.0.4;q=0.2,*/*;q=0.1')
    })
  }

  it('empty list still offers */*', () => {
    assert.equal(acceptHeader([], 'allow-utf-8'), '*/*;q=0.6')
  })

  it('unvalidated long lists degrade exactly like Go\'s q=0.%d', () => {
    const seven: ScrapeProtocol[] = Array(7).fill('PrometheusText0.0.4')
    const qs = acceptHeader(seven, 'allow-utf-8').split(',').map((v) => v.slice(v.indexOf(';q=') + 3))
    assert.deepEqual(qs, ['0.6', '0.5', '0.4', '0.3', '0.2', '0.1', '0.0', '0.-1'])
  })
})

describe('validateScrapeProtocols', () => {
  it('accepts and returns a valid list', () => {
    assert.deepEqual(validateScrapeProtocols(['PrometheusProto', 'PrometheusText0.0.4'], 'J'),
      ['PrometheusProto', 'PrometheusText0.0.4'])
  })

  it('rejects an empty list', () => {
    assert.throws(() => validateScrapeProtocols([], 'J'),
      { message: 'scrape_protocols cannot be empty for scrape config with job name "J"' })
    assert.throws(() => validateScrapeProtocols([]),
      { message: 'scrape_protocols cannot be empty for global config' })
  })

  it('rejects unknown protocols, including wrong case', () => {
    assert.throws(() => validateScrapeProtocols(['PrometheusProto', 'X'], 'J'), {
      message: `scrape_protocols: unknown scrape protocol X, supported: ${SUPPORTED} for scrape config with job name "J"`,
    })
    assert.throws(() => validateScrapeProtocols(['prometheusproto']), {
      message: `scrape_protocols: unknown scrape protocol prometheusproto, supported: ${SUPPORTED} for global config`,
    })
  })

  it('rejects duplicates compared case-insensitively', () => {
    const list = ['PrometheusProto', 'PrometheusText0.0.4', 'PrometheusProto']
    assert.throws(() => validateScrapeProtocols(list, 'J'), {
      message: 'duplicated protocol in scrape_protocols, got [PrometheusProto PrometheusText0.0.4 PrometheusProto] for scrape config with job name "J"',
    })
    assert.throws(() => validateScrapeProtocols(['PrometheusProto', 'prometheusPROTO']), {
      message: 'duplicated protocol in scrape_protocols, got [PrometheusProto prometheusPROTO] for global config',
    })
  })

  it('quotes job names like Go %q', () => {
    assert.throws(() => validateScrapeProtocols([], 'a"b\\c\n\x01'), {
      message: 'scrape_protocols cannot be empty for scrape config with job name "a\\"b\\\\c\\n\\x01"',
    })
  })
})

describe('validateFallbackProtocol', () => {
  it('accepts known protocols and treats empty as unset', () => {
    assert.equal(validateFallbackProtocol('PrometheusText0.0.4', 'J'), 'PrometheusText0.0.4')
    assert.equal(validateFallbackProtocol('', 'J'), undefined)
  })

  it('rejects unknown protocols', () => {
    assert.throws(() => validateFallbackProtocol('X', 'J'), {
      message: `invalid fallback_scrape_protocol for scrape config with job name "J": unknown scrape protocol X, supported: ${SUPPORTED}`,
    })
  })
})

describe('name validation and escaping', () => {
  it('validates metric_name_validation_scheme', () => {
    assert.equal(validateNameValidationScheme('utf8'), 'utf8')
    assert.equal(validateNameValidationScheme('legacy'), 'legacy')
    assert.throws(() => validateNameValidationScheme('UTF8'), { message: 'unrecognized ValidationScheme: "UTF8"' })
  })

  it('validates metric_name_escaping_scheme', () => {
    for (const s of ['allow-utf-8', 'underscores', 'dots', 'values']) assert.equal(validateEscapingScheme(s), s)
    assert.throws(() => validateEscapingScheme('bogus'), {
      message: `unknown scrape config name escaping method specified, ${ESCAPING_CHOICES}, got "bogus"`,
    })
    assert.throws(() => validateEscapingScheme('bogus', 'global'), {
      message: `unknown global name escaping method specified, ${ESCAPING_CHOICES}, got "bogus"`,
    })
  })

  it('resolves escaping from configuration', () => {
    assert.equal(resolveEscapingScheme(), 'allow-utf-8')
    assert.equal(resolveEscapingScheme({ validation: 'legacy' }), 'underscores')
    assert.equal(resolveEscapingScheme({ escaping: 'dots' }), 'dots')
    assert.equal(resolveEscapingScheme({ validation: 'legacy', escaping: 'values' }), 'values')
    assert.equal(resolveEscapingScheme({ escaping: '' }, { validation: 'legacy' }), 'underscores')
    // Job without its own validation scheme inherits the global escaping...
    assert.equal(resolveEscapingScheme({}, { escaping: 'dots' }), 'dots')
    // ...but one that sets a validation scheme derives escaping from it instead.
    assert.equal(resolveEscapingScheme({ validation: 'utf8' }, { escaping: 'dots' }), 'allow-utf-8')
  })

  it('rejects allow-utf-8 under legacy validation and bad escaping values', () => {
    const msg = 'utf8 metric names requested but validation scheme is not set to UTF8'
    assert.throws(() => resolveEscapingScheme({ validation: 'legacy', escaping: 'allow-utf-8' }), { message: msg })
    assert.throws(() => resolveEscapingScheme({}, { validation: 'legacy', escaping: 'allow-utf-8' }), { message: msg })
    assert.throws(() => resolveEscapingScheme({}, { escaping: 'nope' }),
      { message: `unknown global name escaping method specified, ${ESCAPING_CHOICES}, got "nope"` })
    assert.throws(() => resolveEscapingScheme({ escaping: 'nope' }),
      { message: `unknown scrape config name escaping method specified, ${ESCAPING_CHOICES}, got "nope"` })
  })
})
