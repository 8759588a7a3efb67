package source

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/idaop/ida-operator/runtime/config"
)

// Debounce timing: a burst of changes (a GitOps sync onboarding a hundred
// RPs) becomes one update once it has been quiet for debounceQuiet, and a
// burst that never pauses is still delivered after debounceMax, well within
// the one second the runtime promises.
const (
	debounceQuiet = 100 * time.Millisecond
	debounceMax   = 500 * time.Millisecond
)

// secretSelector picks the Secrets of the contract. RBAC cannot restrict
// Secrets by label, but the informer holds only these in memory.
var secretSelector = config.LabelComponent + " in (" +
	config.ComponentSigningKeys + "," + config.ComponentClientRegistration + ")"

// NewKubernetes watches the provider's objects in namespace: the ConfigMap
// configMap (provider.json), the Secret signingKeysSecret (keys.json), the
// client registration Secrets (client.json each), unless usersSecret is
// empty the users Secret (users.json), and unless saltSecret is empty the
// Secret holding the pairwise salt (at the key provider.json names). The
// runtime's Role allows exactly this: get, list and watch of its ConfigMap
// and of Secrets in its namespace.
//
// Client registrations are those labelled for the provider named by the
// ConfigMap's ida.idaop.dev/provider label, so two providers sharing a
// namespace never serve each other's clients.
func NewKubernetes(cs kubernetes.Interface, namespace, configMap, signingKeysSecret, usersSecret, saltSecret string) Source {
	return &kubeSource{
		cs: cs, namespace: namespace, configMap: configMap,
		signingKeys: signingKeysSecret, users: usersSecret, salt: saltSecret,
		quiet: debounceQuiet, maxWait: debounceMax,
	}
}

type kubeSource struct {
	cs                                             kubernetes.Interface
	namespace, configMap, signingKeys, users, salt string
	quiet, maxWait                                 time.Duration
}

func (k *kubeSource) Run(ctx context.Context, updates chan<- Update) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// changed holds at most one pending signal: however many events arrive
	// while an update is assembled or delivered, one more pass follows.
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}

	byName := func(name string) func(*metav1.ListOptions) {
		sel := fields.OneTermEqualSelector("metadata.name", name).String()
		return func(o *metav1.ListOptions) { o.FieldSelector = sel }
	}
	cmClient, secretClient := k.cs.CoreV1().ConfigMaps(k.namespace), k.cs.CoreV1().Secrets(k.namespace)
	listConfigMaps := func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return cmClient.List(ctx, o) }
	listSecrets := func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return secretClient.List(ctx, o)
	}

	configMaps := k.informer(&corev1.ConfigMap{}, listConfigMaps, cmClient.Watch, byName(k.configMap))
	secrets := k.informer(&corev1.Secret{}, listSecrets, secretClient.Watch,
		func(o *metav1.ListOptions) { o.LabelSelector = secretSelector })
	informers := []cache.SharedIndexInformer{configMaps, secrets}
	var users cache.SharedIndexInformer
	if k.users != "" {
		users = k.informer(&corev1.Secret{}, listSecrets, secretClient.Watch, byName(k.users))
		informers = append(informers, users)
	}
	var salt cache.SharedIndexInformer
	if k.salt != "" {
		salt = k.informer(&corev1.Secret{}, listSecrets, secretClient.Watch, byName(k.salt))
		informers = append(informers, salt)
	}
	synced := make([]cache.InformerSynced, 0, len(informers))
	for _, inf := range informers {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return err
		}
		go inf.RunWithContext(ctx)
		synced = append(synced, inf.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return nil // ctx ended before the caches filled
	}

	state := func() inputs {
		in := inputs{namespace: k.namespace, configMapName: k.configMap, keysName: k.signingKeys, usersName: k.users, saltName: k.salt}
		if obj, ok, _ := configMaps.GetStore().GetByKey(k.namespace + "/" + k.configMap); ok {
			in.configMap, _ = obj.(*corev1.ConfigMap)
		}
		for _, obj := range secrets.GetStore().List() {
			if s, ok := obj.(*corev1.Secret); ok {
				in.secrets = append(in.secrets, s)
			}
		}
		if users != nil {
			if obj, ok, _ := users.GetStore().GetByKey(k.namespace + "/" + k.users); ok {
				in.users, _ = obj.(*corev1.Secret)
			}
		}
		if salt != nil {
			if obj, ok, _ := salt.GetStore().GetByKey(k.namespace + "/" + k.salt); ok {
				in.salt, _ = obj.(*corev1.Secret)
			}
		}
		return in
	}

	var last [32]byte
	sent := false
	deliver := func() bool {
		in := state()
		sum := in.fingerprint()
		if sent && sum == last {
			return true
		}
		last, sent = sum, true
		return send(ctx, updates, in.update())
	}
	// Events from the initial lists are covered by the first delivery.
	select {
	case <-changed:
	default:
	}
	if !deliver() {
		return nil
	}

	var timer *time.Timer
	var timerC <-chan time.Time
	var first time.Time
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil
		case <-changed:
			now := time.Now()
			if timerC == nil {
				first = now
				timer = time.NewTimer(k.quiet)
				timerC = timer.C
				continue
			}
			// Wait for quiet again, but never past maxWait after the
			// first change of the burst.
			timer.Reset(min(k.quiet, first.Add(k.maxWait).Sub(now)))
		case <-timerC:
			timerC = nil
			if !deliver() {
				return nil
			}
		}
	}
}

type (
	listFunc  func(context.Context, metav1.ListOptions) (runtime.Object, error)
	watchFunc func(context.Context, metav1.ListOptions) (watch.Interface, error)
)

// informer watches one kind in the namespace, narrowed on the server side
// by tweak, so the cache holds only the objects of the contract.
func (k *kubeSource) informer(example runtime.Object, list listFunc, watchFn watchFunc, tweak func(*metav1.ListOptions)) cache.SharedIndexInformer {
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			tweak(&o)
			return list(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			tweak(&o)
			return watchFn(ctx, o)
		},
	}
	// The fake clientset of unit tests cannot serve watch lists; the
	// wrapper lets the reflector ask the client.
	return cache.NewSharedIndexInformer(cache.ToListWatcherWithWatchListSemantics(lw, k.cs), example, 0, cache.Indexers{})
}

// inputs is what the informers hold at one moment; update turns it into a
// snapshot without any I/O, so the rules are tested without an API server.
type inputs struct {
	namespace, configMapName, keysName, usersName, saltName string

	configMap *corev1.ConfigMap
	// secrets are all labelled Secrets of the namespace: signing keys and
	// client registrations, of any provider.
	secrets []*corev1.Secret
	users   *corev1.Secret
	// salt holds the pairwise salt, read at the key provider.json names.
	salt *corev1.Secret
}

// fingerprint covers exactly what update reads.
func (in *inputs) fingerprint() [32]byte {
	f := newFingerprint()
	if in.configMap != nil {
		v, ok := in.configMap.Data[config.ProviderConfigKey]
		f.add("configmap", []byte(v), ok)
		f.add("provider-label", []byte(in.configMap.Labels[config.LabelProvider]), true)
	} else {
		f.add("configmap", nil, false)
	}
	for _, s := range in.relevant() {
		f.add("secret "+s.Name, []byte(s.Labels[config.LabelComponent]+"\x00"+s.Labels[config.LabelProvider]), true)
		for _, key := range []string{config.KeySetKey, config.ClientKey} {
			v, ok := s.Data[key]
			f.add(key, v, ok)
		}
	}
	if in.users != nil {
		v, ok := in.users.Data[UsersKey]
		f.add("users", v, ok)
	} else {
		f.add("users", nil, false)
	}
	if in.salt != nil {
		// Every key: which one is the salt is provider.json's to say.
		keys := make([]string, 0, len(in.salt.Data))
		for k := range in.salt.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f.add("salt "+k, in.salt.Data[k], true)
		}
	} else {
		f.add("salt", nil, false)
	}
	return f.sum()
}

// relevant are the signing keys Secret and this provider's client
// registrations, by name; another provider's changes are not ours.
func (in *inputs) relevant() []*corev1.Secret {
	var out []*corev1.Secret
	for _, s := range in.secrets {
		if in.isKeys(s) || in.isClient(s) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (in *inputs) isKeys(s *corev1.Secret) bool { return s.Name == in.keysName }

func (in *inputs) isClient(s *corev1.Secret) bool {
	if in.isKeys(s) || s.Labels[config.LabelComponent] != config.ComponentClientRegistration {
		return false
	}
	owner := ""
	if in.configMap != nil {
		owner = in.configMap.Labels[config.LabelProvider]
	}
	return owner == "" || s.Labels[config.LabelProvider] == owner
}

func (in *inputs) update() Update {
	s, skipped, err := in.snapshot()
	if err != nil {
		return Update{Err: err}
	}
	var users []byte
	if in.users != nil {
		users = in.users.Data[UsersKey]
	}
	return Update{Snapshot: s, Users: users, Skipped: skipped}
}

// snapshot parses each object with the parser LoadDir uses, so each error
// names the object it came from, then runs Snapshot.Validate for the rules
// that span objects, as LoadDir checks them.
//
// One client registration that cannot be used is left out and reported in
// skipped, not a reason to refuse the provider's whole configuration: the
// other relying parties keep working.
func (in *inputs) snapshot() (snap *config.Snapshot, skipped []error, err error) {
	cmRef := fmt.Sprintf("ConfigMap %s/%s", in.namespace, in.configMapName)
	if in.configMap == nil {
		return nil, nil, errors.New(cmRef + ": not found")
	}
	raw, ok := in.configMap.Data[config.ProviderConfigKey]
	if !ok {
		return nil, nil, fmt.Errorf("%s: has no key %s", cmRef, config.ProviderConfigKey)
	}
	provider, err := config.ParseProvider([]byte(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("%s key %s: %w", cmRef, config.ProviderConfigKey, err)
	}

	snap = &config.Snapshot{Provider: provider, Clients: map[string]*config.Client{}}
	if ref := provider.Subjects.SaltSecret; ref != nil {
		if snap.PairwiseSalt, err = in.pairwiseSalt(ref); err != nil {
			return nil, nil, err
		}
	}
	keysRef := fmt.Sprintf("Secret %s/%s", in.namespace, in.keysName)
	from := map[string]string{}
	for _, s := range in.relevant() {
		ref := fmt.Sprintf("Secret %s/%s", s.Namespace, s.Name)
		if in.isKeys(s) {
			raw, ok := s.Data[config.KeySetKey]
			if !ok {
				return nil, nil, fmt.Errorf("%s: has no key %s", ref, config.KeySetKey)
			}
			if snap.Keys, err = config.ParseKeySet(raw); err != nil {
				return nil, nil, fmt.Errorf("%s key %s: %w", ref, config.KeySetKey, err)
			}
			continue
		}
		raw, ok := s.Data[config.ClientKey]
		if !ok {
			skipped = append(skipped, fmt.Errorf("%s: has no key %s", ref, config.ClientKey))
			continue
		}
		c, err := config.ParseClient(raw)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("%s key %s: %w", ref, config.ClientKey, err))
			continue
		}
		if err := config.AsError(provider.CheckClient(c)); err != nil {
			skipped = append(skipped, fmt.Errorf("%s key %s: %w", ref, config.ClientKey, err))
			continue
		}
		if err := snap.CheckSubject(c); err != nil {
			skipped = append(skipped, fmt.Errorf("%s key %s: %w", ref, config.ClientKey, err))
			continue
		}
		if prev, dup := from[c.ClientID]; dup {
			return nil, nil, fmt.Errorf("%s: client_id %q is already registered by %s", ref, c.ClientID, prev)
		}
		from[c.ClientID] = ref
		snap.Clients[c.ClientID] = c
	}
	if snap.Keys == nil {
		return nil, nil, fmt.Errorf("%s: not found (or not labelled %s=%s)", keysRef, config.LabelComponent, config.ComponentSigningKeys)
	}
	if err := snap.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%s with %s: %w", cmRef, keysRef, err)
	}
	return snap, skipped, nil
}

// pairwiseSalt reads the salt provider.json names. A Secret that is not
// there is no salt: then only public clients are served. One that is there
// without the key is an error, as is a salt other than the one recorded
// (Snapshot.Validate): the runtime keeps the salt it has rather than
// change every pairwise sub.
func (in *inputs) pairwiseSalt(ref *config.SecretKeyRef) ([]byte, error) {
	if in.salt == nil || ref.Name != in.saltName {
		return nil, nil
	}
	v, ok := in.salt.Data[ref.Key]
	if !ok {
		return nil, fmt.Errorf("Secret %s/%s: has no key %s", in.namespace, ref.Name, ref.Key)
	}
	return v, nil
}
