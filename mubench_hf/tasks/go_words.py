"""The tiny go_relations tokenizer's whole words: the 800 most frequent words of Gene Ontology term names."""

# The 800 most frequent words (2+ characters) of the names in GO.db 3.16's single-typed edges, so that
# names come out mostly as whole words.
GO_WORDS = tuple(
    """
    regulation process activity cell positive negative metabolic biosynthetic response protein
    catabolic complex development cellular transport involved signaling membrane acid pathway
    receptor binding differentiation transmembrane morphogenesis compound by dna assembly on
    transporter acting formation muscle containing oxidoreductase mediated growth organization
    localization rna or ion proliferation production secretion oxygen amino host donors type plasma
    as factor apoptotic beta stimulus kinase vesicle transcription mitotic migration cycle dependent
    from nad organic alpha via incorporation immune peptide activation group fate peptidyl nuclear
    cardiac phosphate acceptor epithelial ii component import mitochondrial processing ch hormone
    polymerase histone hydrolase synaptic specification neuron coa methyltransferase signal channel
    calcium system modification anatomical dehydrogenase molecular into maintenance stress antigen
    meiotic transduction lipid interleukin symbiont synthase trna mrna cytokine ligase intracellular
    establishment blood structure spindle rrna adhesion across nucleotide heart lyase nadp carbon
    body sulfur cyclic purine wall replication coupled modulation microtubule embryonic smooth
    nitrogen developmental organelle viral anion fatty organism commitment reticulum chemotaxis
    multicellular transition contraction induction cation alcohol maturation actin mesenchymal
    endoplasmic reduction serine endothelial axon phosphatase tissue fusion organ paired golgi
    glutamate chromosome groups proton filament nucleus carbohydrate leukocyte metanephric iron wnt
    gland pyrimidine homeostasis intrinsic cysteine postsynaptic tubule transferase initiation
    reductase granule virus elongation skeletal detection secondary sodium lysine donor neural
    nucleoside specific potential acyl gamma like endosome catalytic determination polarity nerve
    presentation death glucose oh organismal class projection division nephron cytoplasmic chain
    repair translation activated gated phosphorylation atp methylation terminal small disassembly
    ubiquitin junction entity derived extracellular udp eye diphosphate vascular bonds symporter
    strand matrix reproductive stem ring transmission vitamin cytoskeleton dendritic tube single
    tyrosine h3 another behavior neurotransmitter export defense pattern lateral monooxygenase
    acyltransferase inflammatory lipoprotein potassium toll synapse steroid translational
    acetylation other substance vacuole inositol lumen phosphotransferase sister chromatid disc atom
    tolerance recombination action mesonephric threonine antiporter post cascade molecule checkpoint
    chemokine epithelium chemical trans sensory resulting reproduction domain promoter hydroxy phase
    telomere mhc glucan non organonitrogen active core bud outer macromolecule induced renal
    transferring macrophage particle anterior population associated dioxygenase aldehyde ester
    inorganic fibroblast contractile plant light nucleobase pole double cyclase polysaccharide end
    glucosyltransferase killer mitochondrion natural biogenesis cortex glial plate methyl
    ribonucleoside templated canonical damage oxidation acetyltransferase carboxylic lung primary
    extension ligand myeloid atpase neutrophil phospholipid posterior region line inner arginine
    transforming glycine site sulfate actomyosin spore immunoglobulin regeneration mesodermal tumor
    cholesterol regulator based follicle ketone collagen fiber perception kidney male branching
    systemic amide structural cohesion phosphatidylinositol central suppression biological hydrogen
    density hydroxylase nervous enzyme monocarboxylic pressure integrin dorsal helper vessel
    lymphocyte oxidase presynaptic guidance platelet break plastid forming meiosis targeting
    glomerular immunity not somatic voltage two but animal hair uptake iii bounded derivative
    histidine regulatory heterocycle oxidative cilium extrinsic than bisphosphate bone cluster
    cytoplasm metal cross photoreceptor proline septum abc arterial axis compounds imaginal integral
    mediator switching endocytosis mammary at glutamine germ water 17 activating oxo ventral long
    cytokinesis linking transporting mast complement inhibitor sterol aromatic family side subunit
    deoxyribonucleoside programmed ribonucleotide acetylcholine interferon conjugation precursor
    adaptor chloroplast myosin acetate alanine pigment bacterial clearance communication dense
    female hexosyltransferase exocytosis glycoprotein methionine cord levels release cis cleavage
    sprouting starvation cells clathrin degranulation linear sperm adenylate cytotoxicity
    heterochromatin respiratory attachment remodeling triphosphate endopeptidase intermediate mating
    adp amine epidermal hydrolyzing metabolite recognition retrograde during peroxide substrate
    acetyl glycosyl pancreatic planar tip chitin species cd4 pyruvate motility phenol cytosol
    external for larval tract oocyte generation intestinal movement pigmentation polymerization
    dendrite envelope identity methane monophosphate stimulating sugar entry filamentous layer
    salvage depolymerization termination unicellular oxoglutarate secretory dopamine kinetochore
    prostaglandin zone distal serotonin extravasation deacetylase glucoside low activator heme
    killing aspartate innate spinal crest ether cuticle peripheral right transaminase apical mirna
    ene sporulation ubiquitination adenosylmethionine bundle ventricular alkaloid synthesis vacuolar
    chromatin mesoderm oxide tryptophan cerebellar organisms tetrapyrrole autophagy basal prostate
    proximal chondrocyte hydro intramolecular left seed separation cartilage clustering delta
    surface anaphase thylakoid hypersensitivity insulin telomeric thiamine amides circadian
    cytochrome envenomation glycerol metaphase motor coagulation ribosomal sequence atoms high
    phospholipase rhombomere proteasome camera peptidase retinal insertion segregation ascospore
    cytosolic forebrain recycling ureteric 18 convergent er poly repolarization root solute
    depolarization indole salivary bmp xenobiotic glucocorticoid motif phosphorus quinone adaptation
    copper electron fructose node nutrient ph ribonucleoprotein sleep cap carboxy hypertrophy
    neuronal selection fat function gastrulation modified aminoacylation apparatus brain chloride
    isomerase proteolysis absorption digestive expression bacterium barrier effector glutathione
    pheromone sulfotransferase valve flagellum stranded transfer aggregation decarboxylase
    eosinophil fungal hexose location lsu nitric septin striated transcribed amyloid cd8 linkage
    loading meristem metanephros atrial bile codon mesangial snrna ssu triglyceride
    deoxyribonucleotide myoblast ciliary dephosphorylation guanine independent lysosomal
    sequestering floral lysosome spine splicing ovarian peroxisome 11 adenine directed histamine
    ornithine zinc coenzyme colony p53 adaptive along cushion endocardial erythrocyte ethanol
    antimicrobial cysteinyl duct camp cerebral leucine catecholamine cortical galactose antibiotic
    coated cohesin glomerulus ncrna neurotransmission adrenergic endocytic mapk norepinephrine
    boundary network silencing auxin biotic cone part regulating sex biofilm lactate limb 10 cranial
    deaminase g1 glycolytic leukotriene wing asymmetric embryo
    """.split()
)
