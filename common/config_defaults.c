/*
 * config_defaults.c - the reference defaults of the keys the dispatcher reads (spec 1.3, from
 * the reference's lib/config/config.default.yml), and the keys known in each section it owns.
 *
 * One YAML text is the single source of the defaults: typed reads fall back to it, and the
 * workers' copy of the cluster config starts from it.
 */
#include "config_internal.h"

const char cfg_defaults_yaml[] = "SystemRootToken: \"\"\n"
				 "ManagementToken: \"\"\n"
				 "Services:\n"
				 "  Controller:\n"
				 "    InternalURLs: {}\n"
				 "    ExternalURL: \"\"\n"
				 "  DispatchCloud:\n"
				 "    InternalURLs: {}\n"
				 "    ExternalURL: \"-\"\n"
				 "PostgreSQL:\n"
				 "  ConnectionPool: 32\n"
				 "  Connection: {}\n"
				 "API:\n"
				 "  MaxConcurrentRequests: 64\n"
				 "  MaxQueuedRequests: 128\n"
				 "  RequestTimeout: 5m\n"
				 "  MaxGatewayTunnels: 1000\n"
				 "  MaxQueueTimeForLockRequests: 2s\n"
				 "SystemLogs:\n"
				 "  Format: json\n"
				 "  LogLevel: info\n"
				 "  RequestQueueDumpDirectory: \"\"\n"
				 "  MaxRequestLogParamsSize: 2000\n"
				 "TLS:\n"
				 "  Certificate: \"\"\n"
				 "  Key: \"\"\n"
				 "  Insecure: false\n"
				 "Containers:\n"
				 "  DispatchPrivateKey: \"\"\n"
				 "  CrunchRunCommand: crunch-run\n"
				 "  CrunchRunArgumentsList: []\n"
				 "  RuntimeEngine: docker\n"
				 "  ReserveExtraRAM: 550MiB\n"
				 "  LocalKeepBlobBuffersPerVCPU: 1\n"
				 "  LocalKeepLogsToContainerLog: none\n"
				 "  MaximumPriceFactor: 1.5\n"
				 "  StaleLockTimeout: 1m\n"
				 "  PreemptiblePriceFactor: 0\n"
				 "  MaxDispatchAttempts: 10\n"
				 "  AlwaysUsePreemptibleInstances: false\n"
				 "  DefaultKeepCacheRAM: 0\n"
				 "  CloudVMs:\n"
				 "    Enable: false\n"
				 "    Driver: ec2\n"
				 "    DriverParameters: {}\n"
				 "    ImageID: \"\"\n"
				 "    InstanceInitCommand: \"\"\n"
				 "    SSHPort: \"22\"\n"
				 "    PollInterval: 10s\n"
				 "    SyncInterval: 1m\n"
				 "    ProbeInterval: 10s\n"
				 "    MaxProbesPerSecond: 10\n"
				 "    BootProbeCommand: systemctl is-system-running\n"
				 "    TimeoutIdle: 1m\n"
				 "    TimeoutBooting: 10m\n"
				 "    TimeoutProbe: 10m\n"
				 "    TimeoutShutdown: 10s\n"
				 "    TimeoutTERM: 2m\n"
				 "    TimeoutSignal: 5s\n"
				 "    TimeoutStaleRunLock: 5s\n"
				 "    MaxCloudOpsPerSecond: 10\n"
				 "    MaxConcurrentInstanceCreateOps: 1\n"
				 "    MaxInstances: 64\n"
				 "    MaxRunningContainersPerInstance: 0\n"
				 "    InitialQuotaEstimate: 0\n"
				 "    SupervisorFraction: 0.5\n"
				 "    DeployRunnerBinary: /proc/self/exe\n"
				 "    DeployRunnerDirectory: /tmp/arvados-crunch-run\n"
				 "    DeployPublicKey: true\n"
				 "    ResourceTags: {}\n"
				 "    TagKeyPrefix: Arvados\n"
				 "InstanceTypes: {}\n";

static const char *const cfg_keys_cloudvms[] = { "Enable",
						 "Driver",
						 "DriverParameters",
						 "ImageID",
						 "InstanceInitCommand",
						 "SSHPort",
						 "PollInterval",
						 "SyncInterval",
						 "ProbeInterval",
						 "MaxProbesPerSecond",
						 "BootProbeCommand",
						 "TimeoutIdle",
						 "TimeoutBooting",
						 "TimeoutProbe",
						 "TimeoutShutdown",
						 "TimeoutTERM",
						 "TimeoutSignal",
						 "TimeoutStaleRunLock",
						 "MaxCloudOpsPerSecond",
						 "MaxConcurrentInstanceCreateOps",
						 "MaxInstances",
						 "MaxRunningContainersPerInstance",
						 "InitialQuotaEstimate",
						 "SupervisorFraction",
						 "DeployRunnerBinary",
						 "DeployRunnerDirectory",
						 "DeployPublicKey",
						 "ResourceTags",
						 "TagKeyPrefix",
						 NULL };

/* The dispatcher's keys plus those other services read from Containers (not warned about). */
static const char *const cfg_keys_containers[] = {
	"DispatchPrivateKey", "CrunchRunCommand", "CrunchRunArgumentsList", "RuntimeEngine",
	"ReserveExtraRAM", "LocalKeepBlobBuffersPerVCPU", "LocalKeepLogsToContainerLog",
	"MaximumPriceFactor", "StaleLockTimeout", "PreemptiblePriceFactor", "MaxDispatchAttempts",
	"AlwaysUsePreemptibleInstances", "DefaultKeepCacheRAM", "CloudVMs",
	/* other services' */
	"SupportedDockerImageFormats", "MaxRetryAttempts", "MinRetryPeriod", "MaxComputeVMs",
	"UsePreemptibleInstances", "Logging", "ShellAccess", "SLURM", "LSF", "JobsAPI",
	"DefaultKeepCacheDisk", NULL
};

static const char *const cfg_keys_itype[] = { "ProviderType", "VCPUs",	 "RAM",	  "IncludedScratch",
					      "AddedScratch", "Scratch", "Price", "Preemptible",
					      "GPU",	      "CUDA",	 NULL };

static const char *const cfg_keys_gpu[] = { "Stack",	   "DriverVersion", "HardwareTarget",
					    "DeviceCount", "VRAM",	    NULL };

static const char *const cfg_keys_dispatchcloud[] = { "InternalURLs", "ExternalURL", NULL };

static const char *const cfg_keys_systemlogs[] = { "Format", "LogLevel",
						   "RequestQueueDumpDirectory",
						   "MaxRequestLogParamsSize", NULL };

static const char *const cfg_keys_tls[] = { "Certificate", "Key", "Insecure", "ACME", NULL };

static const char *const cfg_keys_api[] = {
	"MaxConcurrentRequests", "MaxQueuedRequests", "RequestTimeout", "MaxGatewayTunnels",
	"MaxQueueTimeForLockRequests",
	/* other services' */
	"MaxRequestSize", "MaxIndexDatabaseRead", "MaxItemsPerResponse", "MaxKeepBlobBuffers",
	"DisabledAPIs", "AsyncPermissionsUpdateInterval", "MaxRequestAmplification",
	"RailsSessionSecretToken", "SendTimeout", "WebsocketClientEventQueue",
	"WebsocketServerEventQueue", "KeepServiceRequestTimeout", "VocabularyPath",
	"FreezeProjectRequiresDescription", "FreezeProjectRequiresProperties",
	"UnfreezeProjectRequiresAdmin", "MaxConcurrentRailsRequests", "MaxTokenLifetime",
	"LockBeforeUpdate", "LogCreateRequestFraction", NULL
};

const struct cfg_section cfg_sections[] = {
	{ "Containers", cfg_keys_containers },
	{ "Containers.CloudVMs", cfg_keys_cloudvms },
	{ "InstanceTypes.*", cfg_keys_itype },
	{ "InstanceTypes.*.GPU", cfg_keys_gpu },
	{ "Services.DispatchCloud", cfg_keys_dispatchcloud },
	{ "SystemLogs", cfg_keys_systemlogs },
	{ "TLS", cfg_keys_tls },
	{ "API", cfg_keys_api },
	{ NULL, NULL },
};
