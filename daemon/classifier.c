/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * For every field, the rules that accept a given packet value are the rules
 * that do not look at the field (the wildcard set) plus the rules whose
 * constraint holds for the value. Each distinct such set is one class; the
 * class tables map values to classes, and pf_bitmaps holds each class's set
 * as a bitmap over rule ranks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "macro.h"

typedef uint64_t words_t[PF_BITMAP_WORDS];

#define INTERN_BUCKETS (PF_MAX_CLASSES * 2)

struct builder {
        Classifier *c;
        uint32_t buckets[INTERN_BUCKETS];       /* class + 1, 0 = empty */
        size_t n_rules;
        Rule *const *rules;
};

static uint64_t words_hash(const uint64_t *w) {
        uint64_t h = 1469598103934665603ULL;

        for (size_t i = 0; i < PF_BITMAP_WORDS; i++) {
                h ^= w[i];
                h *= 1099511628211ULL;
                h ^= h >> 29;
        }
        return h;
}

/* The class of a rule set, made on first sight. */
static int intern(struct builder *b, const uint64_t *w, uint32_t *ret_class) {
        Classifier *c = b->c;
        size_t i = words_hash(w) % INTERN_BUCKETS;
        struct pf_bitmap *bm;

        for (;; i = (i + 1) % INTERN_BUCKETS) {
                uint32_t e = b->buckets[i];

                if (e == 0)
                        break;
                if (memcmp(c->bitmaps[e - 1].words, w, sizeof(words_t)) == 0) {
                        *ret_class = e - 1;
                        return 0;
                }
        }

        if (c->n_classes >= PF_MAX_CLASSES)
                return -E2BIG;
        bm = &c->bitmaps[c->n_classes];
        memcpy(bm->words, w, sizeof(words_t));
        bm->summary = 0;
        for (size_t k = 0; k < PF_BITMAP_WORDS; k++)
                if (w[k])
                        bm->summary |= 1ULL << k;
        b->buckets[i] = c->n_classes + 1;
        *ret_class = c->n_classes++;
        return 0;
}

static void words_set(uint64_t *w, size_t rank) {
        w[rank / 64] |= 1ULL << (rank % 64);
}

static void words_clear(uint64_t *w, size_t rank) {
        w[rank / 64] &= ~(1ULL << (rank % 64));
}

/* Does the rule look at this field? PORT covers both ports and ICMP types. */
static bool rule_constrains(const Rule *r, enum pf_field f) {
        switch (f) {
        case PF_FIELD_SOURCE:
                return r->match & RULE_MATCH_SOURCE;
        case PF_FIELD_DESTINATION:
                return r->match & RULE_MATCH_DESTINATION;
        case PF_FIELD_PROTOCOL:
                return r->match & RULE_MATCH_PROTOCOL;
        case PF_FIELD_SOURCE_PORT:
                return r->match & RULE_MATCH_SOURCE_PORT;
        case PF_FIELD_PORT:
                return r->match & (RULE_MATCH_PORT | RULE_MATCH_ICMP_TYPE);
        case PF_FIELD_VLAN:
                return r->match & RULE_MATCH_VLAN;
        case PF_FIELD_INTERFACE:
                return r->match & RULE_MATCH_INTERFACE;
        case PF_FIELD_SOURCE_SET:
                return r->match & RULE_MATCH_SOURCE_SET;
        case PF_FIELD_DESTINATION_SET:
                return r->match & RULE_MATCH_DESTINATION_SET;
        default:
                return false;
        }
}

static void wildcard_words(const struct builder *b, enum pf_field f, uint64_t *w) {
        memset(w, 0, sizeof(words_t));
        for (size_t r = 0; r < b->n_rules; r++)
                if (!rule_constrains(b->rules[r], f))
                        words_set(w, r);
}

/* A table of small values (protocol, ICMP type, VLAN): wildcard set plus the rules naming the value. */
static int build_value_table(struct builder *b, enum pf_field f, uint32_t n_values, uint32_t *table,
                             bool (*names)(const Rule *r, uint32_t value)) {
        words_t wc, w;
        uint32_t wc_class;
        int r;

        wildcard_words(b, f, wc);
        r = intern(b, wc, &wc_class);
        if (r < 0)
                return r;

        for (uint32_t v = 0; v < n_values; v++) {
                bool any = false;

                memcpy(w, wc, sizeof(words_t));
                for (size_t i = 0; i < b->n_rules; i++)
                        if (names(b->rules[i], v)) {
                                words_set(w, i);
                                any = true;
                        }
                if (!any) {
                        table[v] = wc_class;
                        continue;
                }
                r = intern(b, w, &table[v]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool names_protocol(const Rule *r, uint32_t v) {
        return (r->match & RULE_MATCH_PROTOCOL) && r->protocol == v;
}

static bool names_icmp_type(const Rule *r, uint32_t v) {
        return (r->match & RULE_MATCH_ICMP_TYPE) && r->icmp_type == v;
}

static bool names_vlan(const Rule *r, uint32_t v) {
        return (r->match & RULE_MATCH_VLAN) && r->vlan == v;
}

struct port_event {
        uint32_t at;                    /* the port where the change happens (0..65536) */
        uint32_t rank;
        bool set;
};

static int port_event_compare(const void *a, const void *b) {
        const struct port_event *x = a, *y = b;

        return x->at < y->at ? -1 : x->at > y->at;
}

/* Ports: a sweep over 0..65535, the set changing only where some rule's range starts or ends. */
static const uint8_t port_protocols[PF_PORT_PROTOCOLS] = {
        [PF_PORT_TCP] = 6,
        [PF_PORT_UDP] = 17,
        [PF_PORT_SCTP] = 132,
};

/* Ports, for one protocol: rules with a port of another protocol never match such a packet. */
static int build_port_table(struct builder *b, enum pf_field f, enum pf_port_protocol proto, uint32_t *table) {
        _cleanup_free_ struct port_event *events = NULL;
        size_t n = 0;
        words_t w;
        uint32_t class;
        int r;

        events = calloc(2 * b->n_rules + 1, sizeof(struct port_event));
        if (!events)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_rules; i++) {
                const Rule *rule = b->rules[i];
                const struct port_range *pr;

                if (f == PF_FIELD_SOURCE_PORT && (rule->match & RULE_MATCH_SOURCE_PORT))
                        pr = &rule->source_port;
                else if (f == PF_FIELD_PORT && (rule->match & RULE_MATCH_PORT))
                        pr = &rule->port;
                else
                        continue;
                /* A port rule always names its protocol (rule_validate() sees to it). */
                if (rule->protocol != port_protocols[proto])
                        continue;
                events[n++] = (struct port_event) { .at = pr->first, .rank = i, .set = true };
                events[n++] = (struct port_event) { .at = (uint32_t) pr->last + 1, .rank = i, .set = false };
        }
        qsort(events, n, sizeof(struct port_event), port_event_compare);

        /* The wildcard set for ports excludes ICMP-type rules too: they never match a port. */
        wildcard_words(b, f, w);
        for (uint32_t port = 0, e = 0; port < 65536;) {
                uint32_t next = 65536;

                while (e < n && events[e].at == port) {
                        if (events[e].set)
                                words_set(w, events[e].rank);
                        else
                                words_clear(w, events[e].rank);
                        e++;
                }
                if (e < n && events[e].at < next)
                        next = events[e].at;
                r = intern(b, w, &class);
                if (r < 0)
                        return r;
                for (uint32_t p = port; p < next; p++)
                        table[p] = class;
                port = next;
        }
        return 0;
}

static int build_interfaces(struct builder *b, unsigned (*ifindex_of)(const char *ifname)) {
        Classifier *c = b->c;
        words_t wc, w;

        wildcard_words(b, PF_FIELD_INTERFACE, wc);
        for (size_t i = 0; i < b->n_rules; i++) {
                const Rule *rule = b->rules[i];
                unsigned ifindex;
                bool seen = false;
                int r;

                if (!(rule->match & RULE_MATCH_INTERFACE))
                        continue;
                ifindex = ifindex_of ? ifindex_of(rule->interface) : 0;
                if (ifindex == 0)
                        continue;       /* not present: its rules cannot match */
                for (size_t k = 0; k < c->n_interfaces; k++)
                        if (c->interfaces[k].ifindex == ifindex)
                                seen = true;
                if (seen)
                        continue;
                if (c->n_interfaces >= PF_MAX_INTERFACES)
                        return -E2BIG;

                memcpy(w, wc, sizeof(words_t));
                for (size_t j = 0; j < b->n_rules; j++)
                        if ((b->rules[j]->match & RULE_MATCH_INTERFACE) &&
                            ifindex_of(b->rules[j]->interface) == ifindex)
                                words_set(w, j);
                c->interfaces[c->n_interfaces].ifindex = ifindex;
                r = intern(b, w, &c->interfaces[c->n_interfaces].class);
                if (r < 0)
                        return r;
                c->n_interfaces++;
        }
        return 0;
}

static const struct prefix *rule_prefix(const Rule *r, enum pf_field f) {
        if (f == PF_FIELD_SOURCE)
                return (r->match & RULE_MATCH_SOURCE) ? &r->source : NULL;
        return (r->match & RULE_MATCH_DESTINATION) ? &r->destination : NULL;
}

typedef unsigned __int128 u128;

struct addr_event {
        u128 at;                        /* where the change happens */
        uint32_t rank;
        bool set;
};

static int addr_event_compare(const void *a, const void *b) {
        const struct addr_event *x = a, *y = b;

        return x->at < y->at ? -1 : x->at > y->at;
}

static u128 prefix_first(const struct prefix *p) {
        size_t n = p->family == AF_INET ? 4 : 16;
        u128 v = 0;

        for (size_t i = 0; i < n; i++)
                v = (v << 8) | p->addr[i];
        return v;
}

/*
 * Addresses: the rule prefixes cut the address space of a family into elementary
 * intervals; each interval's class is the wildcard set plus the rules whose prefix
 * holds it. A sweep over the prefix ends, as for ports; adjacent intervals of one
 * class are merged. The program finds an address's interval by binary search.
 */
static int build_intervals(struct builder *b, enum pf_field f, int family, uint32_t *ret_count,
                           u128 *starts, uint32_t *classes) {
        _cleanup_free_ struct addr_event *events = NULL;
        unsigned bits = family == AF_INET ? 32 : 128;
        size_t n = 0, count = 0;
        words_t w;
        int r;

        events = calloc(2 * b->n_rules + 1, sizeof(struct addr_event));
        if (!events)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_rules; i++) {
                const struct prefix *p = rule_prefix(b->rules[i], f);
                u128 first, size;

                if (!p || p->family != family)
                        continue;
                first = prefix_first(p);
                size = p->prefixlen == 0 ? 0 : (u128) 1 << (bits - p->prefixlen);
                events[n++] = (struct addr_event) { .at = first, .rank = i, .set = true };
                /* No end event when the prefix runs to the top of the space. */
                if (p->prefixlen > 0 && (bits == 128 ? first + size != 0 : first + size < ((u128) 1 << 32)))
                        events[n++] = (struct addr_event) { .at = first + size, .rank = i, .set = false };
        }
        qsort(events, n, sizeof(struct addr_event), addr_event_compare);

        wildcard_words(b, f, w);
        for (size_t e = 0;;) {
                u128 at = count == 0 ? 0 : events[e].at;
                uint32_t class;

                /* Apply every change at this point, then record the interval starting here. */
                for (; e < n && events[e].at == at; e++)
                        if (events[e].set)
                                words_set(w, events[e].rank);
                        else
                                words_clear(w, events[e].rank);
                r = intern(b, w, &class);
                if (r < 0)
                        return r;
                if (count == 0 || classes[count - 1] != class) {
                        if (count >= PF_INTERVALS_MAX)
                                return -E2BIG;
                        starts[count] = at;
                        classes[count] = class;
                        count++;
                }
                if (e >= n)
                        break;
        }
        *ret_count = (uint32_t) count;
        return 0;
}

static int build_address_field(struct builder *b, enum pf_field f) {
        Classifier *c = b->c;
        unsigned idx = f == PF_FIELD_SOURCE ? 0 : 1;
        _cleanup_free_ u128 *starts = NULL;
        uint32_t count;
        int r;

        starts = calloc(PF_INTERVALS_MAX, sizeof(u128));
        if (!starts)
                return -ENOMEM;

        r = build_intervals(b, f, AF_INET, &count, starts, c->v4[idx].class);
        if (r < 0)
                return r;
        c->v4[idx].count = count;
        /* Pad with copies of the last interval: the program searches a fixed power of two. */
        for (uint32_t i = 0; i < PF_INTERVALS_MAX; i++) {
                if (i >= count)
                        c->v4[idx].class[i] = c->v4[idx].class[count - 1];
                c->v4[idx].start[i] = i < count ? (uint32_t) starts[i] : UINT32_MAX;
        }

        r = build_intervals(b, f, AF_INET6, &count, starts, c->v6[idx].class);
        if (r < 0)
                return r;
        c->v6[idx].count = count;
        for (uint32_t i = 0; i < PF_INTERVALS_MAX; i++) {
                u128 v = i < count ? starts[i] : ~(u128) 0;

                if (i >= count)
                        c->v6[idx].class[i] = c->v6[idx].class[count - 1];
                c->v6[idx].start_hi[i] = (uint64_t) (v >> 64);
                c->v6[idx].start_lo[i] = (uint64_t) v;
        }
        return 0;
}

/* A set field: for each membership (a mask of sets), the wildcard rules plus the rules whose
 * set is in the mask. Memberships past n hold no address: they get the wildcard class. */
static int build_set_field(struct builder *b, enum pf_field f, const uint64_t *memberships, size_t n,
                           uint32_t table[PF_MAX_MEMBERSHIPS]) {
        words_t wc, w;
        uint32_t wc_class;
        int r;

        wildcard_words(b, f, wc);
        r = intern(b, wc, &wc_class);
        if (r < 0)
                return r;
        for (size_t m = 0; m < PF_MAX_MEMBERSHIPS; m++) {
                bool any = false;

                table[m] = wc_class;
                if (m >= n || !memberships[m])
                        continue;
                memcpy(w, wc, sizeof(words_t));
                for (size_t i = 0; i < b->n_rules; i++) {
                        const Rule *rule = b->rules[i];
                        unsigned id;

                        if (!rule_constrains(rule, f))
                                continue;
                        id = f == PF_FIELD_SOURCE_SET ? rule->source_set_id : rule->destination_set_id;
                        if (id < PF_MAX_SETS && (memberships[m] & (1ULL << id))) {
                                words_set(w, i);
                                any = true;
                        }
                }
                if (any) {
                        r = intern(b, w, &table[m]);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int classifier_build(Rule *const *rules, size_t n_rules, enum pf_action default_action,
                     unsigned (*ifindex_of)(const char *ifname), const uint64_t *memberships,
                     size_t n_memberships, Classifier **ret) {
        _cleanup_(classifier_freep) Classifier *c = NULL;
        _cleanup_free_ struct builder *b = NULL;
        words_t all;
        uint32_t class;
        int r;

        if (n_rules > PF_MAX_RULES)
                return -E2BIG;

        c = calloc(1, sizeof(Classifier));
        b = calloc(1, sizeof(struct builder));
        if (!c || !b)
                return -ENOMEM;
        c->bitmaps = calloc(PF_MAX_CLASSES, sizeof(struct pf_bitmap));
        c->interfaces = calloc(n_rules + 1, sizeof(struct classifier_interface));
        if (!c->bitmaps || !c->interfaces)
                return -ENOMEM;
        b->c = c;
        b->rules = rules;
        b->n_rules = n_rules;
        c->default_action = default_action;
        c->n_ranks = n_rules;

        /* Class 0: all ones, for fields no rule looks at (PF_CLASS_ANY). */
        memset(all, 0xff, sizeof(all));
        r = intern(b, all, &class);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n_rules; i++) {
                c->rank_slot[i] = rules[i]->slot;
                for (int f = 0; f < _PF_FIELD_MAX; f++)
                        if (rule_constrains(rules[i], f))
                                c->field_mask |= 1U << f;
        }

        for (int f = 0; f < _PF_FIELD_MAX; f++) {
                words_t wc;

                wildcard_words(b, f, wc);
                r = intern(b, wc, &c->absent_class[f]);
                if (r < 0)
                        return r;
        }

        r = build_value_table(b, PF_FIELD_PROTOCOL, 256, c->proto, names_protocol);
        if (r >= 0)
                r = build_value_table(b, PF_FIELD_PORT, 256, c->icmp, names_icmp_type);
        if (r >= 0)
                r = build_value_table(b, PF_FIELD_VLAN, PF_VLAN_UNTAGGED, c->vlan, names_vlan);
        if (r >= 0)
                for (unsigned p = 0; p < PF_PORT_PROTOCOLS && r >= 0; p++) {
                        r = build_port_table(b, PF_FIELD_SOURCE_PORT, p, c->sport[p]);
                        if (r >= 0)
                                r = build_port_table(b, PF_FIELD_PORT, p, c->dport[p]);
                }
        if (r >= 0)
                r = build_interfaces(b, ifindex_of);
        if (r >= 0)
                r = build_address_field(b, PF_FIELD_SOURCE);
        if (r >= 0)
                r = build_address_field(b, PF_FIELD_DESTINATION);
        if (r >= 0)
                r = build_set_field(b, PF_FIELD_SOURCE_SET, memberships, n_memberships, c->set_class[0]);
        if (r >= 0)
                r = build_set_field(b, PF_FIELD_DESTINATION_SET, memberships, n_memberships, c->set_class[1]);
        if (r < 0)
                return r;
        /* Untagged frames: only rules that do not name a VLAN. */
        c->vlan[PF_VLAN_UNTAGGED] = c->absent_class[PF_FIELD_VLAN];

        *ret = TAKE_PTR(c);
        return 0;
}

Classifier *classifier_free(Classifier *c) {
        if (!c)
                return NULL;
        free(c->bitmaps);
        free(c->interfaces);
        free(c);
        return NULL;
}

static uint32_t ctz64(uint64_t x) {
        return (uint32_t) __builtin_ctzll(x);
}

int classifier_match(const Classifier *c, const uint32_t class[_PF_FIELD_MAX]) {
        const struct pf_bitmap *b[_PF_FIELD_MAX];
        uint64_t candidates = ~0ULL;

        for (int f = 0; f < _PF_FIELD_MAX; f++) {
                if (class[f] >= c->n_classes)
                        return -1;
                b[f] = &c->bitmaps[class[f]];
                candidates &= b[f]->summary;
        }
        while (candidates) {
                uint32_t i = ctz64(candidates);
                uint64_t w = ~0ULL;

                for (int f = 0; f < _PF_FIELD_MAX; f++)
                        w &= b[f]->words[i];
                if (w)
                        return (int) (i * 64 + ctz64(w));
                candidates &= candidates - 1;
        }
        return -1;
}
