import type { OutsideSystem } from './ports.ts'

/** How the chain reaches outside systems (src/adapters/); each read from the variable named in its line. */
export interface AdaptersConfig {
  /** `DATA_DIR`, as above: the default home of the outbox, the label spool and the ERP export file. */
  readonly dataDir: string
  readonly payment: PaymentSimulatorConfig
  readonly mail: MailConfig
  readonly printer: PrinterConfig
  readonly erp: ErpConfig
  readonly carrier: CarrierSimulatorConfig
  /**
   * `FAULT_RATES`, e.g. `payment=0.3,email=0.5`, default none: the probability (0 to 1) that a call
   * to that system fails transiently, half the time before its effect and half after it (a lost
   * answer), to prove that retries rely on idempotency keys (src/adapters/faults.ts).
   */
  readonly faultRates: Readonly<Record<OutsideSystem, number>>
}

/** The payment simulator (src/adapters/payment/simulator.ts). */
export interface PaymentSimulatorConfig {
  /** `PAYMENT_LATENCY_MS`, default 0: how long each call to the provider takes. */
  readonly latencyMs: number
  /** `PAYMENT_DECLINE_RATE`, default 0: the share of captures with a token other than the test tokens that are declined. */
  readonly declineRate: number
  /** `PAYMENT_FAILURE_RATE`, default 0: the share of such captures that fail transiently (the provider unavailable). */
  readonly failureRate: number
}

/** Email (src/adapters/email/). */
export interface MailConfig {
  /** `OUTBOX_DIR`, default `<DATA_DIR>/outbox`: where messages are written as `.eml` files when SMTP_URL is unset. */
  readonly outboxDir: string
  /** `SMTP_URL`, e.g. `smtp://user:pass@mail.example.com:587`: send through this server instead of the outbox. */
  readonly smtpUrl: string | undefined
  /** `SMTP_TIMEOUT_MS`, default 30000: how long one email over SMTP may take in all, connection to acceptance. */
  readonly timeoutMs: number
  /** `MAIL_FROM`, default `"Order Ops Gateway" <orders@localhost>`: the sender of every message. */
  readonly from: string
}

/** The label printer (src/adapters/printer/). */
export interface PrinterConfig {
  /** `LABEL_SPOOL_DIR`, default `<DATA_DIR>/labels`: where labels are written (and print markers kept). */
  readonly spoolDir: string
  /**
   * `PRINT_COMMAND`, e.g. `lp -d labels`: a command that prints the PDF it reads on stdin, run without
   * a shell (split on spaces; quotes group words). Unset: labels stay in the spool folder.
   */
  readonly command: readonly string[] | undefined
  /** `PRINT_TIMEOUT_MS`, default 30000: how long the print command may take before it is killed. */
  readonly timeoutMs: number
}

/** The ERP export (src/adapters/erp/). */
export interface ErpConfig {
  /** `ERP_WEBHOOK_URL`: POST each order document there (http or https). Unset: append it to `exportFile`. */
  readonly webhookUrl: string | undefined
  /** `ERP_WEBHOOK_SECRET` (16 characters or more, required with ERP_WEBHOOK_URL): the HMAC-SHA256 key the POSTs are signed with. */
  readonly webhookSecret: string | undefined
  /** `ERP_TIMEOUT_MS`, default 10000: how long one POST may take, answer included. */
  readonly timeoutMs: number
  /** `ERP_EXPORT_FILE`, default `<DATA_DIR>/erp-export.jsonl`: one JSON line per exported order. */
  readonly exportFile: string
}

/** The carrier simulator (src/adapters/carrier/simulator.ts). */
export interface CarrierSimulatorConfig {
  /** `CARRIER_LATENCY_MS`, default 0: how long each call to the carrier takes. */
  readonly latencyMs: number
}
