"""Word lists that keep redaction from eating ordinary words.

A cue such as "I'm" or "this is" is followed far more often by a feeling, a verb or a function word
than by a name, and those words are exactly what staff need to read ("I'm scared", "this is the last
time"). Everything here is lower case; callers compare with `word.lower()`.
Kept as Python rather than a data file so it ships inside the package without packaging changes.
"""
from __future__ import annotations

_FUNCTION = """
a an the this that these those there here it its it's me my mine myself you your yours he him his she
her hers we us our they them their i i'm im ive i've id i'd ill i'll am is are was were be been being
do does did done doing have has had having will would shall should can could may might must ought
and or but nor so yet if then than because cos coz cuz as of at by for from in into onto on off out
over under up down to too with without about above below after before again against between through
during until till since while behind near outside inside beside around across along
towards toward beyond within among per via upon next
where when why how what which who whom whose whatever whoever not no
nor yes yeah yep ya yh nah nope ok okay oki k kk all any some each every both either neither none
one two three four five six seven eight nine ten eleven twelve first second last next other another
such own same just only also very really quite rather even still already almost always never ever
often sometimes usually maybe perhaps probably definitely literally actually honestly basically
totally seriously genuinely completely absolutely extremely constantly properly finally nearly barely
clearly early fully likely lately mostly simply anyway anymore anyone anything anywhere everyone
everything everywhere someone something somewhere nobody nothing nowhere somebody everybody
like kinda sorta gonna wanna gotta dunno lemme tryna lol lmao omg idk idc tbh ngl rn imo btw smh
pls plz please thanks thank thx ty sorry soz hi hey hello hiya bye cya ah oh um uh hmm wow
more most less least much many few lot lots bit whole half enough else ago soon later now
""".split()

_STATES = """
scared afraid frightened terrified worried anxious nervous panicking panicky stressed upset sad
unhappy depressed down low lonely alone isolated lost confused numb empty broken tired exhausted
sleepy sick ill unwell poorly hurt hurting hurts injured bleeding dizzy drunk high stoned wasted
fine good great okay alright ok well better worse bad awful terrible horrible shit crap rubbish
happy glad angry mad furious annoyed pissed fed done finished over through ready sure serious
safe unsafe trapped stuck desperate hopeless helpless worthless useless pointless ashamed guilty
embarrassed disgusting disgusted ugly fat stupid dumb weird different normal strange crazy mental
suicidal pregnant homeless dead dying alive awake asleep gone leaving staying going coming
trying thinking feeling getting having being doing saying telling waiting sitting standing
struggling crying shaking bleeding cutting starving failing losing leaving hiding running
new old young little big small long short hard easy free busy late right wrong true real fake
sorry honest open quiet loud cold hot warm nice kind mean cruel fair unfair important sure
not no never nothing just so such really very still also too totally literally
private public blocked deleted hacked banned locked muted reported active down broken offline
""".split()

_VERBS = """
go goes went gone get gets got gotten make makes made take takes took taken give gives gave given
come comes came see sees saw seen know knows knew known think thinks thought want wants wanted need
needs needed feel feels felt tell tells told say says said ask asks asked try tries tried leave
leaves left keep keeps kept let lets put puts mean means meant call calls called find finds found
hate hates hated love loves loved like likes liked live lives lived die dies died kill kills killed
cut cuts hit hits hitting beat beats beaten touch touched touches push pushed hurt hurted harm harmed
rape raped abuse abused attack attacked threaten threatened scream screamed shout shouted jump
jumped run ran hide hid stop stopped start started end ended help helped talk talked speak spoke
cry cried sleep slept eat ate drink drank smoke smoked take taking overdose overdosed wish wished
hope hoped miss missed lose lost fail failed work worked play played stay stayed move moved wait
waited look looked watch watched listen listened hear heard read wrote write sent send texted text
""".split()

_NOUNS = """
pills pill tablets tablet meds medication drugs drug weed knife knives blade blades razor rope gun
guns bridge roof train trains car cars road edge cliff river water bottle bleach poison blood bruise
bruises scar scars wrist wrists arm arms leg legs body head neck face
mum mom mam mummy mother dad daddy father parent parents stepdad stepmum stepmom brother sister bro
sis brothers sisters family nan nana gran grandma granny grandad grandpa uncle aunt auntie cousin
son daughter baby child children kid kids boyfriend girlfriend bf gf partner ex husband wife mate
mates friend friends bestie people person guy guys girl girls boy boys man men woman women lad lads
teacher teachers coach tutor priest vicar imam rabbi pastor doctor doc nurse police officer cop cops
copper social worker carer carers staff counsellor therapist boss manager neighbour stranger
someone everyone nobody school college uni class lesson lessons homework exam exams test tests
home house flat room bedroom bathroom toilet kitchen garden street park town city hospital station
shop church mosque club team football rugby dance gym
time times day days night nights week weeks weekend month months year years hour hours minute
minutes morning afternoon evening tonight today tomorrow yesterday tonite 2nite tmrw
monday tuesday wednesday thursday friday saturday sunday
january february march april may june july august september october november december
life world thing things stuff way problem problems fault mess joke lie truth secret story point
reason idea question answer help message chat bot phone number email name age birthday
me myself him her them us god jesus allah
suicide selfharm self-harm harm harming death overdose od noose hanging hang jump jumping stab stabbed
stabbing shoot shooting shot bomb bombs bombing attack terror terrorist weapon weapons fire burn
burning assault grooming groomed abuser rapist violence fight fighting danger emergency ambulance
""".split()

_ROLES_AND_TITLES = """
mr mrs miss ms mx dr sir madam prof professor rev reverend father sister brother uncle aunt
""".split()

STOPWORDS: frozenset[str] = frozenset(
    w for w in _FUNCTION + _STATES + _VERBS + _NOUNS + _ROLES_AND_TITLES
)

# Words that describe a kind of school or club rather than naming one: "my high school", "dance
# club" and "sixth form college" identify nobody, so at least one word outside this set is needed.
INSTITUTION_GENERIC: frozenset[str] = frozenset("""
primary secondary junior juniors infant infants nursery high grammar comprehensive community catholic
church sunday summer night boarding private state special independent free faith local village
sixth form further education technical tech art arts music drama dance ballet football footy rugby
cricket tennis netball hockey swimming swim boxing karate judo gym golf chess book youth kids
running cycling riding sailing gaming coding computer science film law medical med driving language
girls boys mixed upper lower middle new old big little main city town county national international
royal the of and c e cofe strip comedy social working mens sports sport fan
breakfast homework lunch
""".split())

# Street names are often ordinary words ("12 High Street", "3 Church Lane"), so these may sit inside
# an address even though the stoplist would otherwise veto them.
STREET_WORDS: frozenset[str] = frozenset("""
high church station main park mill new old green north south east west upper lower little great
long short broad king kings queen queens princes prince market bridge river school college hall
manor castle farm spring springs water lake hill wood woods oak ash elm cedar beech cherry rose
orchard meadow field fields grove the st saint
""".split())
